package master

import (
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/ipc"
)

// Worker is the master's handle on one tm-worker, as the state machine
// sees it. Calls only queue orders: none blocks.
type Worker interface {
	Start()
	Stop(sig syscall.Signal, timeout time.Duration)
	Signal(sig syscall.Signal)
	Status(ipc.Status)
	Quit()
	// Tail asks for a stream's output (see ipc.Tail); reply is called on
	// the loop goroutine with the answer, or nil if the worker went away.
	Tail(t ipc.Tail, reply func(*ipc.TailData))
	// Clear empties the job's log files through the worker's descriptors
	// and its kept output; reply is called as Tail's.
	Clear(reply func(*ipc.Cleared))
	Reopen()
	// Input writes data to a tty job's terminal, as typed.
	Input(data []byte)
	// Attach hands a client connection to the worker, which owns f after.
	Attach(f *os.File, a *ipc.Attach)
}

// env is what a Process needs from its owner. Every method is called on
// the owner's loop goroutine.
type env interface {
	Clock
	// Post runs f on the loop goroutine (used by timers).
	Post(f func())
	// NewWorker starts a worker for p, or fails with a spawn error.
	NewWorker(p *Process) (Worker, error)
	// Changed is told of every state change, after it happened.
	Changed(p *Process, from State, ev Event)
}

// Exit is how a job ended.
type Exit struct {
	Pid    int
	Code   int // -1 when killed by Signal
	Signal syscall.Signal
	Killed bool // SIGKILLed after stoptime
}

func (e Exit) String() string {
	if e.Code < 0 {
		return "signal " + config.SignalName(e.Signal)
	}
	return fmt.Sprintf("code %d", e.Code)
}

// Process is the state machine of one process slot. It is owned by the
// loop goroutine: no method may be called from elsewhere.
type Process struct {
	Name    string // "web" or "web:web_00"
	Program *config.Program

	env    env
	state  State
	w      Worker // nil: no worker
	pid    int    // the job's pid; 0 when none
	since  time.Time
	start  time.Time // when the job last started
	exit   Exit
	tries  int    // failed attempts since the last RUNNING (supervisor's backoff)
	spawn  string // the last spawn error
	timer  Timer
	gen    int  // invalidates timers that fired after being replaced
	starts int  // automatic restarts and retries since the last manual start
	ran    bool // ever started
	queued int  // starts of it waiting their turn in the Supervisor's queue
	// next is the program this process takes once stopped, after a reload
	// reshaped it; nextStart says whether to start it then.
	next      *config.Program
	nextStart bool
}

func newProcess(name string, prog *config.Program, e env) *Process {
	return &Process{Name: name, Program: prog, env: e, since: e.Now()}
}

// State returns the current state.
func (p *Process) State() State { return p.state }

// Pid returns the job's pid, 0 when none runs.
func (p *Process) Pid() int { return p.pid }

// Start is a manual start. It fails if the process is already active or
// still stopping.
func (p *Process) Start() error {
	if p.state.active() {
		return ErrAlreadyStarted
	}
	if p.state == Stopping {
		return ErrStopping
	}
	p.tries, p.starts, p.spawn = 0, 0, ""
	p.spawnJob("start requested")
	return nil
}

// Stop is a manual stop.
func (p *Process) Stop() error {
	switch p.state {
	case Starting, Running:
		p.stopJob()
	case Backoff:
		p.cancelTimer()
		// The state first: the worker records it before it quits.
		if err := p.setState(Stopped, Event{Msg: "stopped while in backoff"}); err != nil {
			return err
		}
		p.quitWorker()
	case Stopping:
	default:
		return ErrNotRunning
	}
	return nil
}

// hasJob says a job runs that its worker can signal or feed.
func (p *Process) hasJob() bool { return p.pid != 0 && p.w != nil }

// Signal forwards sig to the job.
func (p *Process) Signal(sig syscall.Signal) error {
	if !p.hasJob() {
		return ErrNotRunning
	}
	p.w.Signal(sig)
	return nil
}

// spawnJob moves to STARTING and has the worker (a new one if needed)
// start the job. Callers are in a state that may start (STOPPED, EXITED,
// FATAL, BACKOFF); a refused move starts nothing.
func (p *Process) spawnJob(why string) {
	if err := p.refused(Starting); err != nil {
		return
	}
	if p.w == nil {
		w, err := p.env.NewWorker(p)
		if err != nil {
			if p.setState(Starting, Event{Msg: why}) == nil {
				p.spawnFailed(err.Error())
			}
			return
		}
		p.w = w
	}
	p.ran = true
	if p.setState(Starting, Event{Msg: why}) == nil {
		p.w.Start()
	}
}

func (p *Process) stopJob() {
	p.cancelTimer()
	if err := p.setState(Stopping, Event{Msg: fmt.Sprintf("stopping with SIG%s", config.SignalName(p.Program.StopSignal))}); err != nil {
		return
	}
	p.w.Stop(p.Program.StopSignal, p.Program.StopTime)
}

// OnStarted: the worker exec'd the job.
func (p *Process) OnStarted(pid int, at time.Time) {
	p.pid, p.start = pid, at
	p.env.Changed(p, p.state, Event{Msg: "spawned", Pid: pid})
	if p.state != Starting {
		return // stopping already: the exit will follow
	}
	if p.Program.StartTime <= 0 {
		p.running()
		return
	}
	p.arm(p.Program.StartTime, func() {
		if p.state == Starting {
			p.running()
		}
	})
}

func (p *Process) running() {
	if p.setState(Running, Event{Msg: fmt.Sprintf("entered RUNNING (up for starttime %s)", p.Program.StartTime)}) == nil {
		p.tries = 0
	}
}

// OnSpawnError: a Start produced no process.
func (p *Process) OnSpawnError(reason string) {
	switch p.state {
	case Starting:
		p.spawnFailed(reason)
	case Stopping:
		// Stopped before the start failed: there is nothing to wait for.
		p.spawn = reason
		p.stopped(Exit{Code: -1})
	}
}

// OnWorkerFailed: the worker could not set up (output file, chdir, user);
// it exits. For the slot this is a spawn error.
func (p *Process) OnWorkerFailed(reason string) {
	p.w = nil
	p.OnSpawnError(reason)
}

func (p *Process) spawnFailed(reason string) {
	p.spawn = reason
	p.failedAttempt("spawn error: "+reason, 0)
}

// OnExited: the job ended with e.
func (p *Process) OnExited(e Exit) {
	p.exit, p.pid = e, 0
	switch p.state {
	case Starting:
		p.cancelTimer()
		p.failedAttempt(fmt.Sprintf("exited too quickly (%s)", e), e.Pid)
	case Running:
		p.exitedRunning(e)
	case Stopping:
		p.stopped(e)
	}
}

func (p *Process) exitedRunning(e Exit) {
	expected := e.Code >= 0 && slices.Contains(p.Program.ExitCodes, e.Code)
	restart := p.Program.AutoRestart == config.RestartAlways ||
		(p.Program.AutoRestart == config.RestartUnexpected && !expected)
	what := "expectedly"
	if !expected {
		what = "unexpectedly"
	}
	msg := fmt.Sprintf("exited %s (%s)", what, e)
	if restart {
		msg += "; restarting"
	}
	if err := p.setState(Exited, Event{Msg: msg, Pid: e.Pid, Warn: !expected}); err != nil {
		return
	}
	if restart {
		p.starts++
		p.spawnJob("autorestart")
		return
	}
	p.quitWorker()
}

func (p *Process) stopped(e Exit) {
	msg := fmt.Sprintf("stopped (%s)", e)
	switch {
	case e.Killed:
		msg = fmt.Sprintf("killed with SIGKILL after stoptime %s", p.Program.StopTime)
	case e.Pid == 0:
		msg = "stopped before the job started"
	}
	if err := p.setState(Stopped, Event{Msg: msg, Pid: e.Pid, Warn: e.Killed}); err != nil {
		return
	}
	p.quitWorker()
}

// failedAttempt handles a start that did not reach RUNNING: BACKOFF with a
// delay one second longer per failure, FATAL after startretries retries.
func (p *Process) failedAttempt(why string, pid int) {
	p.tries++
	if p.tries > p.Program.StartRetries {
		// FATAL first: the worker records it in the state file, then quits.
		if err := p.setState(Fatal, Event{Msg: fmt.Sprintf("gave up after %d attempts: %s", p.tries, why), Pid: pid, Warn: true}); err != nil {
			return
		}
		p.quitWorker()
		return
	}
	delay := time.Duration(p.tries) * time.Second
	if err := p.setState(Backoff, Event{Msg: fmt.Sprintf("%s; attempt %d of %d, retry in %s", why, p.tries, 1+p.Program.StartRetries, delay), Pid: pid, Warn: true}); err != nil {
		return
	}
	p.arm(delay, func() {
		if p.state == Backoff {
			p.starts++
			p.spawnJob("retry")
		}
	})
}

// OnWorkerLost: the worker died or broke the protocol. Its job died with
// it (PR_SET_PDEATHSIG), so this is the job's exit as well.
func (p *Process) OnWorkerLost(why string) {
	p.w = nil
	pid := p.pid
	p.env.Changed(p, p.state, Event{Msg: "worker lost: " + why, Pid: pid, Warn: true})
	switch p.state {
	case Starting, Running, Stopping:
		p.OnExited(Exit{Pid: pid, Code: -1, Signal: syscall.SIGKILL})
	}
}

// arm runs f after d unless the timer is cancelled or re-armed first.
func (p *Process) arm(d time.Duration, f func()) {
	p.cancelTimer()
	gen := p.gen
	p.timer = p.env.AfterFunc(d, func() {
		p.env.Post(func() {
			if gen == p.gen {
				p.timer = nil
				f()
			}
		})
	})
}

func (p *Process) cancelTimer() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.gen++
}

func (p *Process) quitWorker() {
	if p.w != nil {
		p.w.Quit()
		p.w = nil
	}
}

// setState is the one place the state changes. It refuses a move the
// state table does not allow: that is a bug, logged as an ERROR (tests
// fail on it), and the caller does nothing that the move would have
// begun.
func (p *Process) setState(to State, ev Event) error {
	from := p.state
	if err := p.refused(to); err != nil {
		return err
	}
	p.state, p.since = to, p.env.Now()
	if ev.Pid == 0 {
		ev.Pid = p.pid
	}
	p.sendStatus()
	p.env.Changed(p, from, ev)
	return nil
}

// refused returns (and logs) the error for a move to to that the state
// table does not allow; nil for an allowed move.
func (p *Process) refused(to State) error {
	from := p.state
	if from == to || canMove(from, to) {
		return nil
	}
	err := fmt.Errorf("%s: %w %s -> %s", p.Name, ErrTransition, from, to)
	p.env.Changed(p, from, Event{Msg: err.Error(), Err: true})
	return err
}

// sendStatus gives the worker the master's view, for its state file.
func (p *Process) sendStatus() {
	if p.w != nil {
		p.w.Status(ipc.Status{Name: p.Name, State: p.state.String(), Restarts: p.starts, Error: p.spawn})
	}
}
