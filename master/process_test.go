package master

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/config"
)

func testProgram(mod func(*config.Program)) *config.Program {
	p := &config.Program{
		Name: "web", Argv: []string{"/bin/true"}, NumProcs: 1, Umask: -1,
		AutoStart: true, AutoRestart: config.RestartUnexpected, ExitCodes: []int{0},
		StartRetries: 3, StartTime: time.Second, StopSignal: syscall.SIGTERM,
		StopTime: 10 * time.Second, UID: -1, GID: -1,
	}
	if mod != nil {
		mod(p)
	}
	return p
}

func newTestProcess(t *testing.T, mod func(*config.Program)) (*Process, *fakeEnv) {
	e := newFakeEnv(t)
	return newProcess("web", testProgram(mod), e), e
}

func wantState(t *testing.T, p *Process, want State) {
	t.Helper()
	if p.State() != want {
		t.Fatalf("state %s, want %s", p.State(), want)
	}
}

func TestStartingToRunningAfterStarttime(t *testing.T) {
	p, e := newTestProcess(t, nil)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	wantState(t, p, Starting)
	p.OnStarted(100, e.Now())
	e.Advance(999 * time.Millisecond)
	wantState(t, p, Starting)
	e.Advance(time.Millisecond)
	wantState(t, p, Running)
	if p.Pid() != 100 {
		t.Fatalf("pid %d", p.Pid())
	}
	if got := p.describe(e.Now().Add(3*time.Minute + time.Second)); got != "pid 100, uptime 0:03:02" {
		t.Fatalf("describe: %q", got)
	}
}

func TestStarttimeZeroRunsAtOnce(t *testing.T) {
	p, e := newTestProcess(t, func(p *config.Program) { p.StartTime = 0 })
	p.Start()
	p.OnStarted(100, e.Now())
	wantState(t, p, Running)
}

func TestStartWhileActiveIsAnError(t *testing.T) {
	p, e := newTestProcess(t, nil)
	p.Start()
	if err := p.Start(); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second start: %v", err)
	}
	if e.starts() != 1 {
		t.Fatalf("%d starts, want 1", e.starts())
	}
}

// A job that always dies while STARTING is tried 1+startretries times,
// with delays of 1s, 2s, 3s between attempts, then FATAL.
func TestBackoffThenFatal(t *testing.T) {
	p, e := newTestProcess(t, func(p *config.Program) { p.StartRetries = 3 })
	p.Start()
	for attempt := 1; attempt <= 4; attempt++ {
		if e.starts() != attempt {
			t.Fatalf("attempt %d: %d starts", attempt, e.starts())
		}
		p.OnStarted(100+attempt, e.Now())
		p.OnExited(Exit{Pid: 100 + attempt, Code: 1})
		if attempt == 4 {
			break
		}
		wantState(t, p, Backoff)
		delay := time.Duration(attempt) * time.Second
		e.Advance(delay - time.Millisecond)
		if e.starts() != attempt {
			t.Fatalf("retried before %s", delay)
		}
		wantState(t, p, Backoff)
		e.Advance(time.Millisecond)
		wantState(t, p, Starting)
	}
	wantState(t, p, Fatal)
	if e.starts() != 4 {
		t.Fatalf("%d starts, want 4", e.starts())
	}
	e.Advance(time.Hour)
	if e.starts() != 4 {
		t.Fatalf("started again after FATAL")
	}
	if !slices.Contains(e.last().orders, "quit") {
		t.Fatalf("worker not released after FATAL: %v", e.last().orders)
	}
	if d := p.describe(e.Now()); d != "Exited too quickly (process log may have details)" {
		t.Fatalf("describe: %q", d)
	}
	if p.info(e.Now()).Restarts != 3 {
		t.Fatalf("restarts %d, want 3", p.info(e.Now()).Restarts)
	}
	// Only a manual start leaves FATAL, and it resets the count.
	p.Start()
	wantState(t, p, Starting)
	if p.info(e.Now()).Restarts != 0 {
		t.Fatalf("restarts not reset by a manual start")
	}
}

func TestStartretriesZeroIsFatalAtOnce(t *testing.T) {
	p, e := newTestProcess(t, func(p *config.Program) { p.StartRetries = 0 })
	p.Start()
	p.OnSpawnError("can't find command '/nope'")
	wantState(t, p, Fatal)
	if d := p.describe(e.Now()); d != "can't find command '/nope'" {
		t.Fatalf("describe: %q", d)
	}
}

func TestSpawnErrorBacksOff(t *testing.T) {
	p, e := newTestProcess(t, func(p *config.Program) { p.StartRetries = 1 })
	p.Start()
	p.OnSpawnError("can't find command '/nope'")
	wantState(t, p, Backoff)
	e.Advance(time.Second)
	p.OnSpawnError("can't find command '/nope'")
	wantState(t, p, Fatal)
	if e.starts() != 2 {
		t.Fatalf("%d starts, want 2", e.starts())
	}
}

func TestRunningExitFollowsPolicy(t *testing.T) {
	cases := []struct {
		policy  config.AutoRestart
		code    int
		sig     syscall.Signal
		restart bool
	}{
		{config.RestartUnexpected, 0, 0, false},
		{config.RestartUnexpected, 2, 0, false},
		{config.RestartUnexpected, 1, 0, true},
		{config.RestartUnexpected, -1, syscall.SIGKILL, true},
		{config.RestartAlways, 0, 0, true},
		{config.RestartNever, 1, 0, false},
	}
	for _, c := range cases {
		p, e := newTestProcess(t, func(p *config.Program) {
			p.AutoRestart, p.ExitCodes, p.StartTime = c.policy, []int{0, 2}, 0
		})
		p.Start()
		p.OnStarted(100, e.Now())
		p.OnExited(Exit{Pid: 100, Code: c.code, Signal: c.sig})
		restarted := e.starts() == 2
		if restarted != c.restart {
			t.Errorf("%v exit %d sig %d: restarted %v, want %v", c.policy, c.code, c.sig, restarted, c.restart)
		}
		if c.restart {
			wantState(t, p, Starting)
			if p.info(e.Now()).Restarts != 1 {
				t.Errorf("restarts %d, want 1", p.info(e.Now()).Restarts)
			}
		} else {
			wantState(t, p, Exited)
			if !slices.Contains(e.last().orders, "quit") {
				t.Errorf("worker kept after a final exit")
			}
		}
		if !slices.Contains(e.states, Exited) {
			t.Errorf("never passed through EXITED: %v", e.states)
		}
	}
}

func TestStopRunning(t *testing.T) {
	p, e := newTestProcess(t, func(p *config.Program) {
		p.StartTime, p.StopSignal, p.StopTime = 0, syscall.SIGUSR1, 3*time.Second
	})
	p.Start()
	p.OnStarted(100, e.Now())
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	wantState(t, p, Stopping)
	if o := e.last().orders; o[len(o)-1] != "stop USR1 3s" {
		t.Fatalf("orders %v", o)
	}
	p.OnExited(Exit{Pid: 100, Code: -1, Signal: syscall.SIGKILL, Killed: true})
	wantState(t, p, Stopped)
	if err := p.Stop(); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("stop when stopped: %v", err)
	}
	if e.starts() != 1 {
		t.Fatalf("restarted after a stop")
	}
}

func TestStopInBackoffCancelsRetry(t *testing.T) {
	p, e := newTestProcess(t, nil)
	p.Start()
	p.OnSpawnError("boom")
	wantState(t, p, Backoff)
	p.Stop()
	wantState(t, p, Stopped)
	e.Advance(time.Minute)
	if e.starts() != 1 {
		t.Fatalf("retried after stop")
	}
}

// A starttime timer that fires after a stop must not make it RUNNING.
func TestStaleStarttimeTimer(t *testing.T) {
	p, e := newTestProcess(t, nil)
	p.Start()
	p.OnStarted(100, e.Now())
	p.Stop()
	e.Advance(5 * time.Second)
	wantState(t, p, Stopping)
	p.OnExited(Exit{Pid: 100, Code: -1, Signal: syscall.SIGTERM})
	wantState(t, p, Stopped)
}

// Stop racing a failed start: the worker answers the Start with a spawn
// error after the master already sent Stop.
func TestStopRacingSpawnError(t *testing.T) {
	p, _ := newTestProcess(t, nil)
	p.Start()
	p.Stop()
	p.OnSpawnError("boom")
	wantState(t, p, Stopped)
}

func TestWorkerLostRestartsWithNewWorker(t *testing.T) {
	p, e := newTestProcess(t, func(p *config.Program) { p.StartTime = 0 })
	p.Start()
	p.OnStarted(100, e.Now())
	p.OnWorkerLost("killed by signal 9")
	wantState(t, p, Starting)
	if len(e.workers) != 2 || e.starts() != 2 {
		t.Fatalf("%d workers, %d starts; want 2, 2", len(e.workers), e.starts())
	}
}

func TestWorkerSpawnFailureBacksOff(t *testing.T) {
	p, e := newTestProcess(t, func(p *config.Program) { p.StartRetries = 0 })
	e.spawnErr = errors.New("fork: resource temporarily unavailable")
	p.Start()
	wantState(t, p, Fatal)
}

func TestTransitionTable(t *testing.T) {
	if canMove(Stopped, Running) || canMove(Fatal, Running) || canMove(Exited, Stopping) {
		t.Fatal("table allows a move supervisor never makes")
	}
	e := newFakeEnv(t)
	p := newProcess("web", testProgram(nil), e)
	e.t = &testing.T{} // the refusal below is reported as an error event
	if err := p.setState(Running, Event{}); !errors.Is(err, ErrTransition) {
		t.Fatalf("STOPPED -> RUNNING: %v", err)
	}
	wantState(t, p, Stopped)
}

func TestStateNames(t *testing.T) {
	if Backoff.String() != "BACKOFF" || State(42).String() != "State(42)" {
		t.Fatal(Backoff.String(), State(42).String())
	}
}

func TestUptime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0:00:00", 61 * time.Second: "0:01:01", 25 * time.Hour: "1 day, 1:00:00",
		50 * time.Hour: "2 days, 2:00:00",
	} {
		if got := uptime(d); got != want {
			t.Errorf("uptime(%s) = %q, want %q", d, got, want)
		}
	}
}
