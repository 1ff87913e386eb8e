package master

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/config"
)

// loopWorker is a fake worker for a Supervisor whose loop runs: its job
// starts at once, exits as the program's behaviour says, and dies on a
// stop unless it ignores stops. Called on the loop only.
type loopWorker struct {
	fakeWorker
	s *Supervisor
	p *Process
}

func (w *loopWorker) later(f func()) { go w.s.Post(f) }

func (w *loopWorker) Start() {
	p := w.p
	w.later(func() { p.OnStarted(4242, time.Now()) })
	if p.Program.Name == "quick" { // exits before its starttime
		w.later(func() { p.OnExited(Exit{Pid: 4242, Code: 1}) })
	}
}

func (w *loopWorker) Stop(sig syscall.Signal, d time.Duration) {
	if w.p.Program.Name != "deaf" {
		p := w.p
		w.later(func() { p.OnExited(Exit{Pid: 4242, Code: -1, Signal: sig}) })
	}
}

const apiConfig = `
programs:
  web:
    cmd: sleep 1000
    starttime: 0
    autostart: false
  pool:
    cmd: sleep 1000
    numprocs: 2
    starttime: 0
    autostart: false
  broken:
    cmd: sleep 1000
    startretries: 0
    autostart: false
  quick:
    cmd: sleep 1000
    starttime: 5
    startretries: 0
    autostart: false
  deaf:
    cmd: sleep 1000
    starttime: 0
    stoptime: 1000
    autostart: false
`

// liveSupervisor runs a Supervisor's loop with loopWorkers; load is what
// a reload or AddProgram reads (the same config unless changed).
func liveSupervisor(t *testing.T, yaml string) (*Supervisor, *sync.Mutex, *func() (*config.Config, error)) {
	cfg := parseCfg(t, yaml)
	log, err := OpenEventLog(filepath.Join(t.TempDir(), "log"), RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	load := func() (*config.Config, error) { return parseCfg(t, yaml), nil }
	var s *Supervisor
	s = New(cfg, log, Options{
		Spawn: func(p *Process) (Worker, error) {
			if p.Program.Name == "broken" {
				return nil, errors.New("no such file")
			}
			return &loopWorker{s: s, p: p}, nil
		},
		Load: func() (*config.Config, error) { mu.Lock(); defer mu.Unlock(); return load() },
	})
	ran := make(chan struct{})
	go func() { s.Run(); close(ran) }()
	t.Cleanup(func() {
		s.do(func() {
			for _, p := range s.order { // deaf ignores stops: let it go
				if p.w != nil && p.Program.Name == "deaf" && p.state == Stopping {
					p.OnExited(Exit{Pid: 4242, Code: -1, Signal: syscall.SIGKILL})
				}
			}
		})
		<-s.Shutdown()
		<-ran
		log.Close()
	})
	return s, &mu, &load
}

// The API's errors are typed: every kind a caller meets is found with
// errors.Is, results carry theirs per process, and group forms skip what
// needs nothing.
func TestAPIErrorsTyped(t *testing.T) {
	s, mu, load := liveSupervisor(t, apiConfig)
	ctx := context.Background()
	one := func(what string, rs []Result, err error, want error) {
		t.Helper()
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: %v %+v", what, err, rs)
		}
		if (want == nil && rs[0].Err != nil) || (want != nil && !errors.Is(rs[0].Err, want)) {
			t.Fatalf("%s: %v, want %v", what, rs[0].Err, want)
		}
	}
	if _, err := s.Status([]string{"nope"}); !errors.Is(err, ErrNoSuchProcess) {
		t.Fatalf("status nope: %v", err)
	}
	rs, err := s.Start(ctx, []string{"web"}, true)
	one("start web", rs, err, nil)
	rs, err = s.Start(ctx, []string{"web"}, true)
	one("start web again", rs, err, ErrAlreadyStarted)
	rs, err = s.Start(ctx, []string{"broken"}, true)
	one("start broken", rs, err, ErrSpawn)
	rs, err = s.Start(ctx, []string{"quick"}, true)
	one("start quick", rs, err, ErrAbnormal)
	rs, err = s.Stop(ctx, []string{"pool:pool_00"}, true)
	one("stop a stopped process", rs, err, ErrNotRunning)
	rs, err = s.Signal(syscall.SIGCONT, []string{"pool:pool_01"})
	one("signal a stopped process", rs, err, ErrNotRunning)
	// Group forms act only on what needs it.
	if rs, err := s.Stop(ctx, []string{"pool:*"}, true); err != nil || len(rs) != 0 {
		t.Fatalf("stop pool:*, all stopped: %v %+v", err, rs)
	}
	if rs, err := s.Stop(ctx, []string{"all"}, true); err != nil || len(rs) != 1 || rs[0].Name != "web" || rs[0].Err != nil || rs[0].Op != OpStop {
		t.Fatalf("stop all: %v %+v", err, rs)
	}
	if _, err := s.SignalName("FOO", []string{"web"}); !errors.Is(err, ErrBadSignal) {
		t.Fatalf("signal FOO: %v", err)
	}
	if _, err := s.Tail("pool", Stdout, LogRead{}); !errors.Is(err, ErrBadArguments) {
		t.Fatalf("tail of two processes: %v", err)
	}
	if _, err := s.Tail("web", "stdin", LogRead{}); !errors.Is(err, ErrBadArguments) {
		t.Fatalf("tail of no stream: %v", err)
	}
	if err := s.Attachable("web"); !errors.Is(err, ErrNotTTY) {
		t.Fatalf("attach to a program without tty: %v", err)
	}
	// A job that ignores its stop: a start meanwhile is still stopping.
	rs, err = s.Start(ctx, []string{"deaf"}, true)
	one("start deaf", rs, err, nil)
	rs, err = s.Stop(ctx, []string{"deaf"}, false)
	one("stop deaf, no wait", rs, err, nil)
	rs, err = s.Start(ctx, []string{"deaf"}, true)
	one("start deaf while it stops", rs, err, ErrStopping)
	if err := s.RemoveProgram("deaf"); !errors.Is(err, ErrStillRunning) {
		t.Fatalf("remove a stopping program: %v", err)
	}
	// add and remove act on programs of the file.
	if err := s.RemoveProgram("nope"); !errors.Is(err, ErrBadName) {
		t.Fatalf("remove nope: %v", err)
	}
	if err := s.AddProgram("web"); !errors.Is(err, ErrAlreadyAdded) {
		t.Fatalf("add an active program: %v", err)
	}
	if err := s.RemoveProgram("web"); err != nil {
		t.Fatalf("remove web: %v", err)
	}
	if _, err := s.Status([]string{"web"}); !errors.Is(err, ErrNoSuchProcess) {
		t.Fatalf("status of a removed program: %v", err)
	}
	if plan, err := s.Reread(); err != nil || len(plan.Changes) != 1 || plan.Changes[0].Program != "web" || plan.Changes[0].Kind != config.Added {
		t.Fatalf("reread after remove: %v %+v", err, plan)
	}
	if err := s.AddProgram("web"); err != nil {
		t.Fatalf("add web back: %v", err)
	}
	if names := s.ProcessNames(); !slices.Equal(names, []string{"web", "pool:pool_00", "pool:pool_01", "broken", "quick", "deaf"}) {
		t.Fatalf("order after add: %v", names)
	}
	if err := s.AddProgram("nope"); !errors.Is(err, ErrBadName) {
		t.Fatalf("add nope: %v", err)
	}
	mu.Lock()
	*load = func() (*config.Config, error) { return nil, errors.New("bad yaml") }
	mu.Unlock()
	if _, _, err := s.Reload(); !errors.Is(err, ErrConfig) {
		t.Fatalf("reload of a broken file: %v", err)
	}
	if err := s.AddProgram("web"); !errors.Is(err, ErrConfig) {
		t.Fatalf("add from a broken file: %v", err)
	}
	if got := ErrorText(fail(ErrNoSuchProcess, "x")); got != "ERROR (no such process): x" {
		t.Fatalf("ErrorText: %q", got)
	}
}

// Once the master is gone, every operation says so.
func TestAPIAfterShutdown(t *testing.T) {
	s, _, _ := liveSupervisor(t, apiConfig)
	<-s.Shutdown()
	for s.do(func() {}) {
		time.Sleep(time.Millisecond)
	}
	if _, err := s.Status(nil); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("status: %v", err)
	}
	if _, err := s.Start(context.Background(), []string{"web"}, true); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("start: %v", err)
	}
	if err := s.RemoveProgram("web"); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("remove: %v", err)
	}
}
