package master

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/taskmaster/taskmaster/config"
)

// This file is the master's control API: what every face (the shell's
// command language, the ctl socket, the XML-RPC server) calls. Every
// method is safe from any goroutine; none may be called from the loop
// goroutine. Outcomes are values and typed errors (errors.go); no text is
// made here beyond an error's detail. Once the master has shut down,
// methods return ErrShuttingDown.

// Op is what a Result reports was done to a process.
type Op int

const (
	OpStart  Op = iota // started (RUNNING reached when waited for)
	OpStop             // stopped
	OpSignal           // signal delivered
	OpClear            // logs cleared
)

// Result is one process's outcome of an operation on several NAMEs.
type Result struct {
	Name  string // the process, "web" or "web:web_00"
	Group string // its program
	Op    Op
	Err   error // nil: done; else an *Error of this file's kinds
}

// Plan is what a reload changes (or would change, for Reread).
type Plan = config.Plan

// ConfigInfo is one configured process, for `avail` and supervisor's
// getAllConfigInfo.
type ConfigInfo struct {
	Name      string
	Group     string
	InUse     bool // active: not removed by RemoveProgram
	AutoStart bool
	Program   *config.Program // shared, read-only
}

// Version returns taskmaster's version.
func (s *Supervisor) Version() string { return Version }

// Pid returns the master's pid.
func (s *Supervisor) Pid() int { return os.Getpid() }

// MainLogPath returns the event log's path (it may change on reload).
func (s *Supervisor) MainLogPath() string { return s.log.Path() }

// Begin marks a request of a face in flight until end is called: Serve
// lets it answer before the process exits. ctx is the request's and ends
// when the master's loop ends too, so a follower (tail -f) ends with it.
func (s *Supervisor) Begin(ctx context.Context) (context.Context, func()) {
	s.execs.add(1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.life, cancel)
	return ctx, func() {
		stop()
		cancel()
		s.execs.add(-1)
	}
}

// onLoop runs f on the loop goroutine and waits; ErrShuttingDown once the
// loop has ended.
func (s *Supervisor) onLoop(f func()) error {
	if !s.do(f) {
		return ErrShuttingDown
	}
	return nil
}

// Status returns every process NAMEs match (all of them for none), in
// status order. A NAME that matches nothing is ErrNoSuchProcess.
func (s *Supervisor) Status(names []string) ([]ProcessInfo, error) {
	if len(names) == 0 {
		names = []string{"all"}
	}
	var infos []ProcessInfo
	var err error
	if lerr := s.onLoop(func() {
		var ps []*Process
		if ps, err = s.resolve(names); err == nil {
			now := s.clock.Now()
			for _, p := range ps {
				infos = append(infos, p.info(now))
			}
		}
	}); lerr != nil {
		return nil, lerr
	}
	return infos, err
}

// ProcessNames returns every active process's name in status order.
func (s *Supervisor) ProcessNames() []string {
	var names []string
	s.do(func() { names = s.processNames() })
	return names
}

// Avail returns every configured process, in the file's program order:
// those of active programs (InUse), and those of programs RemoveProgram
// made inactive, as supervisor's getAllConfigInfo lists them.
func (s *Supervisor) Avail() []ConfigInfo {
	var infos []ConfigInfo
	s.do(func() {
		order := slices.Clone(s.loaded.Order)
		for _, name := range s.cfg.Order {
			if !slices.Contains(order, name) {
				order = append(order, name) // added from a newer file
			}
		}
		for _, name := range order {
			if ps := s.progs[name]; len(ps) > 0 {
				for _, p := range ps {
					infos = append(infos, ConfigInfo{Name: p.Name, Group: name, InUse: true, AutoStart: p.Program.AutoStart, Program: p.Program})
				}
				continue
			}
			if prog := s.loaded.Programs[name]; prog != nil {
				for _, pn := range prog.ProcessNames() {
					infos = append(infos, ConfigInfo{Name: pn, Group: name, AutoStart: prog.AutoStart, Program: prog})
				}
			}
		}
	})
	return infos
}

// target is one process an operation acts on; named says a NAME named it
// alone (not through all, prog:* or a program of several processes).
type target struct {
	p     *Process
	named bool
}

// targets resolves names for an operation on several processes, as
// supervisorctl's group calls do: a process named alone is always acted
// on (and gets its error: not running, already started), one reached
// only through a group form is skipped unless needs says it needs the
// operation. Loop only.
func (s *Supervisor) targets(names []string, needs func(*Process) bool) ([]target, error) {
	if len(names) == 0 {
		return nil, fail(ErrBadArguments, "no process named")
	}
	var ts []target
	for _, n := range names {
		found := s.match(n)
		if len(found) == 0 && n != "all" {
			return nil, noSuchProcess(n)
		}
		// Named alone: not all, not prog:*, not a program of several.
		alone := n != "all" && !strings.HasSuffix(n, ":*") && len(found) == 1
		for _, p := range found {
			i := slices.IndexFunc(ts, func(t target) bool { return t.p == p })
			if i >= 0 {
				ts[i].named = ts[i].named || alone
				continue
			}
			ts = append(ts, target{p, alone})
		}
	}
	return slices.DeleteFunc(ts, func(t target) bool { return !t.named && !needs(t.p) }), nil
}

// pending is one process's outcome, delivered on the loop.
type pending struct {
	r  Result
	ch chan error
}

// each runs f on the loop for every target and collects the outcomes in
// order. f calls done exactly once, now or later from the loop.
func (s *Supervisor) each(ctx context.Context, op Op, names []string, needs func(*Process) bool, f func(p *Process, done func(error))) ([]Result, error) {
	var ps []pending
	var err error
	if lerr := s.onLoop(func() {
		var ts []target
		if ts, err = s.targets(names, needs); err != nil {
			return
		}
		for _, t := range ts {
			r := pending{Result{Name: t.p.Name, Group: t.p.Program.Name, Op: op}, make(chan error, 1)}
			ps = append(ps, r)
			f(t.p, func(err error) { r.ch <- err })
		}
	}); lerr != nil {
		return nil, lerr
	}
	if err != nil {
		return nil, err
	}
	rs := make([]Result, len(ps))
	for i, pd := range ps {
		rs[i] = pd.r
		select {
		case rs[i].Err = <-pd.ch:
		case <-ctx.Done():
			rs[i].Err = ctx.Err()
		case <-s.closed:
			select {
			case rs[i].Err = <-pd.ch:
			default:
				rs[i].Err = ErrShuttingDown
			}
		}
	}
	return rs, nil
}

// needsStart: a process a group start acts on (not already started).
func needsStart(p *Process) bool { return !p.state.active() }

// needsStop: a process a group stop or restart acts on (it has a job, or
// is stopping: the stop then waits for it).
func needsStop(p *Process) bool { return p.state.active() || p.state == Stopping || p.queued > 0 }

// Start starts the processes NAMEs match. With wait, each Result comes
// when its process is RUNNING (after starttime) or has failed:
// ErrSpawn, ErrAbnormal; without, as soon as the start is under way.
// A process named alone that is already started is ErrAlreadyStarted;
// one reached through a group form (all, prog:*, prog) is skipped then,
// as supervisor's startProcessGroup does. ErrStopping: still stopping.
func (s *Supervisor) Start(ctx context.Context, names []string, wait bool) ([]Result, error) {
	return s.each(ctx, OpStart, names, needsStart, func(p *Process, done func(error)) {
		s.queueStart(p, wait, done)
	})
}

func (s *Supervisor) startOne(p *Process, wait bool, done func(error)) {
	if err := p.Start(); err != nil {
		done(fail(err, ""))
		return
	}
	if !wait {
		done(nil)
		return
	}
	s.Watch(p, func(p *Process) bool {
		switch p.state {
		case Starting:
			return false
		case Running:
			done(nil)
		case Backoff, Fatal:
			if p.spawn != "" {
				done(fail(ErrSpawn, ""))
			} else {
				done(fail(ErrAbnormal, ""))
			}
		default:
			done(fail(ErrAbnormal, ""))
		}
		return true
	})
}

// Stop stops the processes NAMEs match; with wait, each Result comes when
// its process has stopped. A process named alone with no job is
// ErrNotRunning; one reached through a group form is skipped then.
func (s *Supervisor) Stop(ctx context.Context, names []string, wait bool) ([]Result, error) {
	return s.each(ctx, OpStop, names, needsStop, func(p *Process, done func(error)) {
		s.stopOne(p, wait, done)
	})
}

func (s *Supervisor) stopOne(p *Process, wait bool, done func(error)) {
	// A start still waiting its turn (a mass start under way) is
	// cancelled: the stop comes after it, so it wins.
	cancelled := s.cancelStarts(p, fail(ErrAbnormal, "stopped before its turn to start"))
	if err := p.Stop(); err != nil {
		if cancelled {
			done(nil)
			return
		}
		done(fail(ErrNotRunning, ""))
		return
	}
	if !wait {
		done(nil)
		return
	}
	s.Watch(p, func(p *Process) bool {
		if p.state == Stopping {
			return false
		}
		done(nil)
		return true
	})
}

// Restart stops the processes NAMEs match that have a job (waiting for
// them), then starts them all and waits, as Start does. The Results are
// the stops (OpStop) then the starts (OpStart); if a stop failed, nothing
// is started.
func (s *Supervisor) Restart(ctx context.Context, names []string) ([]Result, error) {
	stops, err := s.each(ctx, OpStop, names, needsStop, func(p *Process, done func(error)) {
		if needsStop(p) {
			s.stopOne(p, true, done)
			return
		}
		done(errSkip)
	})
	if err != nil {
		return nil, err
	}
	stops = slices.DeleteFunc(stops, func(r Result) bool { return r.Err == errSkip })
	for _, r := range stops {
		if r.Err != nil {
			return stops, nil
		}
	}
	starts, err := s.each(ctx, OpStart, names, func(*Process) bool { return true }, func(p *Process, done func(error)) {
		s.queueStart(p, true, done)
	})
	return append(stops, starts...), err
}

// errSkip marks a process an operation left alone; never returned.
var errSkip = errors.New("skipped")

// Signal sends sig to the jobs of the processes NAMEs match. A process
// named alone with no job is ErrNotRunning; one reached through a group
// form is skipped then (supervisor's signalProcessGroup).
func (s *Supervisor) Signal(sig syscall.Signal, names []string) ([]Result, error) {
	return s.each(context.Background(), OpSignal, names, (*Process).hasJob, func(p *Process, done func(error)) {
		if err := p.Signal(sig); err != nil {
			done(fail(ErrNotRunning, ""))
			return
		}
		done(nil)
	})
}

// SignalName is Signal with a signal's name or number (TERM, SIGHUP, 9);
// ErrBadSignal if it is none.
func (s *Supervisor) SignalName(sig string, names []string) ([]Result, error) {
	n, err := config.ParseSignal(sig)
	if err != nil {
		return nil, fail(ErrBadSignal, sig)
	}
	return s.Signal(n, names)
}

// SetNotify turns the shells' event lines on or off.
func (s *Supervisor) SetNotify(on bool) error {
	return s.onLoop(func() { s.notify = on })
}

// Events streams event lines (what the shell prints above its prompt)
// until ctx is done or the master is gone; then the channel is closed. A
// reader that falls behind misses lines rather than slowing the master.
func (s *Supervisor) Events(ctx context.Context) <-chan string {
	ch := make(chan string, 64)
	out := make(chan string)
	if !s.do(func() { s.subs[ch] = true }) {
		close(out)
		return out
	}
	go func() {
		defer close(out)
		defer s.Post(func() { delete(s.subs, ch) })
		for {
			select {
			case line := <-ch:
				select {
				case out <- line:
				case <-ctx.Done():
					return
				case <-s.closed:
					return
				}
			case <-ctx.Done():
				return
			case <-s.closed:
				return
			}
		}
	}()
	return out
}

// resolve maps NAMEs (all, prog, prog:*, prog:proc) to processes, in
// status order without duplicates. `all` is every process, and no
// process at all is no error: with no program configured, `status` prints
// nothing and succeeds, as supervisorctl does. Loop only.
func (s *Supervisor) resolve(names []string) ([]*Process, error) {
	ts, err := s.targets(names, func(*Process) bool { return true })
	if err != nil {
		return nil, err
	}
	ps := make([]*Process, len(ts))
	for i, t := range ts {
		ps[i] = t.p
	}
	return ps, nil
}

// match is the processes one NAME names, in status order. Loop only.
func (s *Supervisor) match(name string) []*Process {
	if name == "all" {
		return slices.Clone(s.order)
	}
	if p, ok := s.procs[name]; ok {
		return []*Process{p}
	}
	group, proc, hasColon := strings.Cut(name, ":")
	var ps []*Process
	for _, p := range s.order {
		if p.Program.Name != group {
			continue
		}
		if !hasColon || proc == "*" || (proc == group && p.Name == group) {
			ps = append(ps, p)
		}
	}
	return ps
}

// resolveOne maps a NAME that must name exactly one process. Loop only.
func (s *Supervisor) resolveOne(command, name string) (*Process, error) {
	ps, err := s.resolve([]string{name})
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		return nil, fail(ErrBadArguments, fmt.Sprintf("%s takes one process; %s names %d", command, name, len(ps)))
	}
	return ps[0], nil
}
