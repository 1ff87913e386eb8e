package master

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
)

// Issue 10, point 4: a worker that never reports Ready (stuck in its
// set-up) is killed after the bound and its slot gets a spawn error.
func TestWorkerNotReadyKilled(t *testing.T) {
	h := newHostile(t)
	first := h.wp()
	h.ck.Advance(DefaultReadyTimeout - time.Millisecond)
	h.settle()
	if first.killed {
		t.Fatal("killed before the bound")
	}
	h.ck.Advance(time.Millisecond)
	h.settle()
	p := h.s.procs["web"]
	if !first.killed || p.w == Worker(first) {
		t.Fatal("the worker that never got ready was not killed")
	}
	wantState(t, p, Backoff)
	if want := "worker did not get ready within 10s"; p.spawn != want {
		t.Fatalf("spawn error %q, want %q", p.spawn, want)
	}
	h.check()
}

// A worker that is ready in time is left alone.
func TestWorkerReadyInTimeKept(t *testing.T) {
	h := newHostile(t)
	first := h.wp()
	h.packet(enc(t, ready()))
	h.ck.Advance(2 * DefaultReadyTimeout)
	h.settle()
	if first.killed {
		t.Fatal("a ready worker was killed")
	}
}

// `stop` of a slot whose worker is still setting up answers at once: the
// worker has no job yet and is killed.
func TestStopBeforeReady(t *testing.T) {
	h := newHostile(t)
	first := h.wp()
	p := h.s.procs["web"]
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if !first.killed {
		t.Fatal("the worker was not killed")
	}
	wantState(t, p, Stopped)
	h.check()
}

// Issue 10, point 4: a shutdown ends whatever a worker does. One that
// ignores its Stop is SIGKILLed past the longest stoptime and a grace;
// one that does not even die is given up on a grace later.
func TestShutdownBounded(t *testing.T) {
	for _, dies := range []bool{true, false} {
		h := newHostile(t)
		wp := h.wp()
		h.packet(enc(t, ready()))
		h.packet(enc(t, &ipc.Started{Pid: 10, UnixMs: 1}))
		wantState(t, h.s.procs["web"], Running)
		done := h.s.beginShutdown()
		stoptime := h.s.procs["web"].Program.StopTime
		h.ck.Advance(stoptime + DefaultShutdownGrace - time.Millisecond)
		h.drain()
		if wp.killed {
			t.Fatal("killed before stoptime and the grace")
		}
		h.ck.Advance(time.Millisecond)
		if dies {
			h.settle()
		} else {
			h.drain() // the kernel will not let it die: nothing to reap
		}
		if !wp.killed {
			t.Fatal("the worker was not killed")
		}
		if !dies {
			select {
			case <-done:
				t.Fatal("gave up too early")
			default:
			}
			h.ck.Advance(DefaultShutdownGrace)
			h.drain()
			if b, _ := os.ReadFile(h.log); !strings.Contains(string(b), "gave up waiting for 1 workers: web") {
				t.Fatalf("not logged:\n%s", b)
			}
		}
		select {
		case <-done:
		default:
			t.Fatalf("shutdown not finished (worker dies: %v)", dies)
		}
	}
}

// drain runs posted work only: nothing is reaped.
func (h *hostile) drain() {
	for len(h.s.posts) > 0 {
		(<-h.s.posts)()
		h.s.runWatchers()
	}
}

// A worker binary that never answers (a set-up blocked forever): the real
// spawn path kills it after ReadyTimeout, BACKOFF says why, and stop and
// shutdown answer at once.
func TestHungWorkerProcess(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "hung-worker")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := parseCfg(t, "programs:\n  web:\n    cmd: sleep 1\n    startretries: 5\n")
	log, err := OpenEventLog(filepath.Join(dir, "log"), RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	s := New(cfg, log, Options{Exe: exe, ReadyTimeout: 300 * time.Millisecond})
	ran := make(chan struct{})
	go func() { s.Run(); close(ran) }()
	defer func() {
		s.Shutdown()
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Error("the master did not finish")
		}
	}()
	state := func() (st State, spawn string, pid int) {
		s.do(func() {
			p := s.procs["web"]
			st, spawn = p.state, p.spawn
			if wp, ok := p.w.(*workerProc); ok {
				pid = wp.pid()
			}
		})
		return
	}
	var hung int
	pollUntil(t, 5*time.Second, "the hung worker", func() bool { _, _, hung = state(); return hung > 0 })
	pollUntil(t, 5*time.Second, "BACKOFF", func() bool { st, _, _ := state(); return st == Backoff })
	if _, spawn, _ := state(); spawn != "worker did not get ready within 300ms" {
		t.Fatalf("spawn error %q", spawn)
	}
	pollUntil(t, 5*time.Second, "the hung worker to be gone", func() bool { return !processAlive(hung) })

	// The retry starts another hung worker; stop answers at once.
	pollUntil(t, 5*time.Second, "the retry", func() bool { st, _, pid := state(); return st == Starting && pid > 0 })
	_, _, hung = state()
	start := time.Now()
	if rs, err := s.Stop(context.Background(), []string{"web"}, true); err != nil || len(rs) != 1 || rs[0].Err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("stop: %v %+v after %s", err, rs, time.Since(start))
	}
	pollUntil(t, 5*time.Second, "the second hung worker to be gone", func() bool { return !processAlive(hung) })
}

func pollUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processAlive: pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}
