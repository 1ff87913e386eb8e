package master

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A big start-up (the initial pass, a `start all`) does not hold the loop:
// a status asked for during the first spawn is answered before the other
// processes were started, listing every process. The test holds the first
// spawn until the status request waits in the loop's queue: the answer
// must come between two starts, not after the whole pass.
func TestStatusAnswersDuringStartup(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name      string
		autostart bool
	}{{"initial pass", true}, {"start all", false}} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "programs:\n  many:\n    cmd: sleep 1000\n    starttime: 0\n    numprocs: 200\n"
			if !tc.autostart {
				yaml += "    autostart: false\n"
			}
			cfg := parseCfg(t, yaml)
			log, err := OpenEventLog(filepath.Join(t.TempDir(), "log"), RealClock{})
			if err != nil {
				t.Fatal(err)
			}
			type answer struct {
				infos []ProcessInfo
				err   error
			}
			answered := make(chan answer, 1)
			spawns := 0
			var s *Supervisor
			s = New(cfg, log, Options{Spawn: func(p *Process) (Worker, error) {
				spawns++
				if spawns == 1 {
					go func() {
						infos, err := s.Status(nil)
						answered <- answer{infos, err}
					}()
					deadline := time.Now().Add(10 * time.Second)
					for len(s.posts) == 0 && time.Now().Before(deadline) {
						time.Sleep(time.Millisecond)
					}
				}
				return &quittingWorker{loopWorker{s: s, p: p}}, nil
			}})
			ran := make(chan struct{})
			go func() { s.Run(); close(ran) }()
			defer func() {
				<-s.Shutdown()
				<-ran
				log.Close()
			}()
			if !tc.autostart {
				go s.Start(context.Background(), []string{"all"}, false)
			}
			var a answer
			select {
			case a = <-answered:
			case <-time.After(30 * time.Second):
				t.Fatal("status did not answer")
			}
			if a.err != nil || len(a.infos) != n {
				t.Fatalf("status: %v, %d processes, want %d", a.err, len(a.infos), n)
			}
			waiting := 0
			for _, in := range a.infos {
				if in.Code == Stopped {
					waiting++
				}
			}
			if waiting == 0 {
				t.Fatalf("status answered after every start (none of %d STOPPED)", n)
			}
			// And every start still happens.
			deadline := time.Now().Add(30 * time.Second)
			for {
				infos, err := s.Status(nil)
				if err != nil {
					t.Fatal(err)
				}
				running := 0
				for _, in := range infos {
					if in.Code == Running {
						running++
					}
				}
				if running == n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d RUNNING", running, n)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// quittingWorker is a loopWorker gone once told to quit, as a real worker
// is once reaped: a shutdown waits for no more.
type quittingWorker struct{ loopWorker }

func (w *quittingWorker) Quit() { w.later(w.s.checkShutdown) }

// A shutdown while starts wait their turn answers them ErrShuttingDown and
// starts nothing more.
func TestShutdownDropsQueuedStarts(t *testing.T) {
	h := newHarness(t, "programs:\n  many:\n    cmd: sleep 1000\n    numprocs: 5\n    autostart: false\n")
	var errs []error
	for _, name := range h.s.processNames() {
		h.s.queueStart(h.s.procs[name], false, func(err error) { errs = append(errs, err) })
	}
	h.s.runQueuedStart()
	h.s.beginShutdown()
	h.settle()
	if len(errs) != 5 || errs[0] != nil {
		t.Fatalf("answers: %v", errs)
	}
	for _, err := range errs[1:] {
		if !errors.Is(err, ErrShuttingDown) {
			t.Fatalf("answers: %v", errs)
		}
	}
	var started []string
	for name, ws := range h.workers {
		if len(ws) > 0 {
			started = append(started, name)
		}
	}
	if len(started) != 1 || !strings.HasPrefix(started[0], "many:") {
		t.Fatalf("workers made for %v, want the first only", started)
	}
}

// A stop asked for while starts wait their turn cancels them: `start all`
// then `stop all` during a mass start leaves every process stopped, not
// the ones whose turn had not come started after the stop.
func TestStopCancelsQueuedStarts(t *testing.T) {
	h := newHarness(t, "programs:\n  many:\n    cmd: sleep 1000\n    numprocs: 5\n    autostart: false\n")
	var starts, stops []error
	names := h.s.processNames()
	for _, name := range names {
		h.s.queueStart(h.s.procs[name], false, func(err error) { starts = append(starts, err) })
	}
	h.s.runQueuedStart() // the first one's turn came (settle would run the rest)
	for _, name := range names {
		if p := h.s.procs[name]; needsStop(p) { // as `stop all` picks them
			h.s.stopOne(p, false, func(err error) { stops = append(stops, err) })
		}
	}
	h.settle()
	for len(h.s.starts) > 0 {
		h.s.runQueuedStart()
		h.settle()
	}
	if len(stops) != 5 {
		t.Fatalf("stop all stopped %d of 5 processes: %v", len(stops), stops)
	}
	for _, err := range stops {
		if err != nil {
			t.Fatalf("stops: %v", stops)
		}
	}
	if len(starts) != 5 || starts[0] != nil {
		t.Fatalf("starts: %v", starts)
	}
	for _, err := range starts[1:] {
		if !errors.Is(err, ErrAbnormal) {
			t.Fatalf("a cancelled start answered %v", err)
		}
	}
	if p := h.s.procs[names[0]]; p.state != Stopping {
		t.Errorf("%s (started before the stop): %s, want STOPPING", names[0], p.state)
	}
	for _, name := range names[1:] {
		if p := h.s.procs[name]; p.state != Stopped || p.queued != 0 {
			t.Errorf("%s: %s, %d starts queued", name, p.state, p.queued)
		}
	}
	spawned := 0
	for _, ws := range h.workers {
		spawned += len(ws)
	}
	if spawned != 1 {
		t.Errorf("%d workers made, want 1 (the start whose turn came before the stop)", spawned)
	}
}
