package master

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/config"
)

// harness is a Supervisor driven by hand on the test goroutine: no loop,
// a fake clock, fake workers.
type harness struct {
	t       *testing.T
	s       *Supervisor
	clock   *fakeClock
	workers map[string][]*fakeWorker
}

func parseCfg(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse(filepath.Join(t.TempDir(), "t.yaml"), []byte(yaml), config.Env{Home: "/h"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newHarness(t *testing.T, yaml string) *harness {
	h := &harness{t: t, clock: newFakeClock(), workers: map[string][]*fakeWorker{}}
	cfg := parseCfg(t, yaml)
	log, err := OpenEventLog(filepath.Join(t.TempDir(), "log"), h.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	h.s = New(cfg, log, Options{Clock: h.clock, Spawn: func(p *Process) (Worker, error) {
		w := &fakeWorker{}
		h.workers[p.Name] = append(h.workers[p.Name], w)
		return w, nil
	}})
	for _, p := range h.s.order {
		if p.Program.AutoStart {
			p.Start()
		}
	}
	h.settle()
	return h
}

// settle runs queued posts (timers) and watchers, as the loop would.
func (h *harness) settle() {
	h.s.runWatchers()
	for len(h.s.posts) > 0 || len(h.s.starts) > 0 {
		if len(h.s.posts) > 0 {
			(<-h.s.posts)()
		} else {
			h.s.runQueuedStart()
		}
		h.s.runWatchers()
	}
}

func (h *harness) reload(yaml string) {
	newCfg := parseCfg(h.t, yaml)
	h.s.apply(newCfg, config.Diff(h.s.cfg, newCfg))
	h.settle()
}

func (h *harness) proc(name string) *Process {
	p := h.s.procs[name]
	if p == nil {
		h.t.Fatalf("no process %s", name)
	}
	return p
}

func (h *harness) starts(name string) int {
	n := 0
	for _, w := range h.workers[name] {
		for _, o := range w.orders {
			if o == "start" {
				n++
			}
		}
	}
	return n
}

const webV1 = "programs:\n  web:\n    cmd: sleep 1\n    starttime: 0\n"
const webV2 = "programs:\n  web:\n    cmd: sleep 2\n    starttime: 0\n"
const webV3 = "programs:\n  web:\n    cmd: sleep 3\n    starttime: 0\n"

// A reshape of a process still STARTING waits for its stop, then starts
// the new command once.
func TestReshapeWhileStarting(t *testing.T) {
	h := newHarness(t, webV1)
	p := h.proc("web")
	wantState(t, p, Starting)
	h.reload(webV2)
	wantState(t, p, Stopping)
	// The worker's answers to the old Start and the Stop arrive late.
	p.OnStarted(10, h.clock.Now())
	p.OnExited(Exit{Pid: 10, Code: -1, Signal: 15})
	h.settle()
	wantState(t, p, Starting)
	if p.Program.Argv[1] != "2" || h.starts("web") != 2 {
		t.Fatalf("argv %v, %d starts", p.Program.Argv, h.starts("web"))
	}
}

// Two reloads before the stop completes: one restart, with the latest.
func TestReshapeTwiceBeforeStopped(t *testing.T) {
	h := newHarness(t, webV1)
	p := h.proc("web")
	p.OnStarted(10, h.clock.Now())
	wantState(t, p, Running)
	h.reload(webV2)
	h.reload(webV3)
	wantState(t, p, Stopping)
	if p.Program.Argv[1] != "1" {
		t.Fatalf("stopping with %v, want the old settings", p.Program.Argv)
	}
	p.OnExited(Exit{Pid: 10, Code: -1, Signal: 15})
	h.settle()
	if p.Program.Argv[1] != "3" || h.starts("web") != 2 {
		t.Fatalf("argv %v, %d starts", p.Program.Argv, h.starts("web"))
	}
}

// A user's stop in progress is honoured: no restart unless autostart.
func TestReshapeWhileUserStops(t *testing.T) {
	for _, auto := range []bool{false, true} {
		v1 := "programs:\n  web:\n    cmd: sleep 1\n    starttime: 0\n    autostart: false\n"
		v2 := "programs:\n  web:\n    cmd: sleep 2\n    starttime: 0\n    autostart: false\n"
		if auto {
			v2 = webV2
		}
		h := newHarness(t, v1)
		p := h.proc("web")
		p.Start()
		p.OnStarted(10, h.clock.Now())
		p.Stop()
		h.reload(v2)
		p.OnExited(Exit{Pid: 10, Code: -1, Signal: 15})
		h.settle()
		want := Stopped
		if auto {
			want = Starting
		}
		wantState(t, p, want)
	}
}

// Removing a program mid-BACKOFF stops it at once and forgets it; no
// retry fires later.
func TestRemoveDuringBackoff(t *testing.T) {
	h := newHarness(t, webV1+"  other:\n    cmd: sleep 1\n    autostart: false\n")
	p := h.proc("web")
	p.OnSpawnError("boom")
	wantState(t, p, Backoff)
	h.reload("programs:\n  other:\n    cmd: sleep 1\n    autostart: false\n")
	wantState(t, p, Stopped)
	if len(h.s.order) != 1 || h.s.procs["web"] != nil {
		t.Fatalf("web not forgotten: %d processes", len(h.s.order))
	}
	h.clock.Advance(10e9)
	h.settle()
	if h.starts("web") != 1 {
		t.Fatalf("retried after removal")
	}
}

// numprocs 3 -> 1 with the survivor renamed; the retired ones stop.
func TestShrinkRenames(t *testing.T) {
	h := newHarness(t, webV1+"    numprocs: 3\n")
	for i, n := range []string{"web:web_00", "web:web_01", "web:web_02"} {
		h.proc(n).OnStarted(10+i, h.clock.Now())
	}
	first := h.proc("web:web_00")
	h.reload(webV1)
	if h.proc("web") != first || first.Pid() != 10 {
		t.Fatalf("web is not the old web:web_00")
	}
	if len(h.s.retiring) != 2 {
		t.Fatalf("%d retiring, want 2", len(h.s.retiring))
	}
	for i, p := range append([]*Process(nil), h.s.retiring...) {
		wantState(t, p, Stopping)
		p.OnExited(Exit{Pid: 11 + i, Code: -1, Signal: 15})
	}
	h.settle()
	if len(h.s.retiring) != 0 || len(h.s.order) != 1 {
		t.Fatalf("retiring %d, order %d", len(h.s.retiring), len(h.s.order))
	}
}

// Issue 10, point 6b: a program removed and re-added while its old
// process still stops does not get a second job next to it: status shows
// the old one STOPPING under the name, and the new settings start once
// it is gone.
func TestReaddWhileStopping(t *testing.T) {
	h := newHarness(t, webV1)
	p := h.proc("web")
	p.OnStarted(10, h.clock.Now())
	wantState(t, p, Running)
	h.reload("programs:\n  other:\n    cmd: sleep 1\n    autostart: false\n")
	wantState(t, p, Stopping)
	h.reload(webV2 + "  other:\n    cmd: sleep 1\n    autostart: false\n")
	if h.proc("web") != p || len(h.s.retiring) != 0 {
		t.Fatalf("the re-added web is not the stopping one")
	}
	wantState(t, p, Stopping)
	if h.starts("web") != 1 {
		t.Fatalf("%d starts while the old job stops, want 1", h.starts("web"))
	}
	// status lists s.order: one web, STOPPING.
	var lines []string
	for _, q := range h.s.order {
		in := q.info(h.clock.Now())
		// command.StatusLine's columns (that package imports this one).
		lines = append(lines, fmt.Sprintf("%-32s %-10s%s", in.Name, in.State, in.Description))
	}
	if status := strings.Join(lines, "\n"); strings.Count(status, "web ") != 1 || !strings.Contains(status, "web                              STOPPING") {
		t.Fatalf("status:\n%s", status)
	}
	p.OnExited(Exit{Pid: 10, Code: -1, Signal: 15})
	h.settle()
	wantState(t, p, Starting)
	if p.Program.Argv[1] != "2" || h.starts("web") != 2 {
		t.Fatalf("argv %v, %d starts", p.Program.Argv, h.starts("web"))
	}
}

// Re-added with more processes than it had: the old one is taken back,
// the new one starts at once (it has no predecessor).
func TestReaddGrown(t *testing.T) {
	h := newHarness(t, webV1)
	p := h.proc("web")
	p.OnStarted(10, h.clock.Now())
	h.reload("programs:\n  other:\n    cmd: sleep 1\n    autostart: false\n")
	h.reload(webV2 + "    numprocs: 2\n")
	if h.proc("web:web_00") != p {
		t.Fatalf("web:web_00 is not the old web")
	}
	wantState(t, p, Stopping)
	wantState(t, h.proc("web:web_01"), Starting)
	p.OnExited(Exit{Pid: 10, Code: -1, Signal: 15})
	h.settle()
	wantState(t, p, Starting)
}
