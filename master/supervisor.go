package master

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/taskmaster/taskmaster/config"
)

// Options are the seams of a Supervisor.
type Options struct {
	Clock Clock  // nil: RealClock
	Exe   string // the worker binary; "": /proc/self/exe
	// Spawn replaces worker processes, for tests of the state machine.
	Spawn func(p *Process) (Worker, error)
	// Notify receives a one-line description of every state change, for
	// the shell's event lines. Called on the loop goroutine: must not block.
	Notify func(line string)
}

// Supervisor owns every Process. All its state is touched only by the loop
// goroutine (Run); other goroutines reach it through Post and do.
type Supervisor struct {
	cfg     *config.Config
	clock   Clock
	log     *EventLog
	opts    Options
	procs   map[string]*Process
	order   []*Process // status order: config order, then process index
	posts   chan func()
	workers map[*workerProc]bool
	watch   map[*Process][]func(*Process) bool
	// shutdown is non-nil once a shutdown began; closed when it finished.
	shutdown chan struct{}
	done     bool
	// closed is closed when Run returns: later Posts are dropped.
	closed chan struct{}
}

// New builds a Supervisor for cfg. Nothing starts until Run.
func New(cfg *config.Config, log *EventLog, opts Options) *Supervisor {
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Exe == "" {
		opts.Exe = "/proc/self/exe"
	}
	s := &Supervisor{
		cfg: cfg, clock: opts.Clock, log: log, opts: opts,
		procs:   map[string]*Process{},
		posts:   make(chan func(), 1024),
		workers: map[*workerProc]bool{},
		watch:   map[*Process][]func(*Process) bool{},
		closed:  make(chan struct{}),
	}
	for _, name := range cfg.Order {
		s.addProgram(cfg.Programs[name])
	}
	return s
}

func (s *Supervisor) addProgram(prog *config.Program) {
	for _, name := range prog.ProcessNames() {
		p := newProcess(name, prog, s)
		s.procs[name] = p
		s.order = append(s.order, p)
	}
}

// Run starts the autostart programs and serves events until Shutdown has
// stopped everything.
func (s *Supervisor) Run() {
	s.log.Logf("INFO", "started (pid %d), config %s", os.Getpid(), s.cfg.Path)
	for _, p := range s.order {
		if p.Program.AutoStart {
			p.Start()
		}
	}
	for !s.done {
		f := <-s.posts
		f()
	}
	close(s.closed)
	s.log.Logf("INFO", "shutdown complete")
}

// Post queues f to run on the loop goroutine; once Run has returned, f is
// dropped. Never call it from the loop goroutine.
func (s *Supervisor) Post(f func()) {
	select {
	case s.posts <- f:
	case <-s.closed:
	}
}

// do runs f on the loop goroutine and waits for it. It returns false,
// without running f, once Run has returned.
func (s *Supervisor) do(f func()) bool {
	done := make(chan struct{})
	s.Post(func() { f(); close(done) })
	select {
	case <-done:
		return true
	case <-s.closed:
		return false
	}
}

func (s *Supervisor) Now() time.Time { return s.clock.Now() }

func (s *Supervisor) AfterFunc(d time.Duration, f func()) Timer { return s.clock.AfterFunc(d, f) }

// NewWorker gives p a worker: a real tm-worker, or the test's.
func (s *Supervisor) NewWorker(p *Process) (Worker, error) {
	if s.opts.Spawn != nil {
		return s.opts.Spawn(p)
	}
	wp, err := s.spawnWorker(p)
	if err != nil {
		return nil, err
	}
	return wp, nil
}

// Changed logs the change, tells the shell and wakes whoever waits on p.
func (s *Supervisor) Changed(p *Process, from State, ev Event) {
	s.log.Write(p.Name, ev)
	if s.opts.Notify != nil && (from != p.state || ev.Warn || ev.Err) {
		s.opts.Notify(fmt.Sprintf("[%s] %s %s", s.clock.Now().Format("15:04:05"), p.Name, ev.Msg))
	}
	ws := s.watch[p]
	kept := ws[:0]
	for _, w := range ws {
		if !w(p) {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		delete(s.watch, p)
	} else {
		s.watch[p] = kept
	}
	s.checkShutdown()
}

// Watch calls f on every change of p until it returns true. Loop only.
func (s *Supervisor) Watch(p *Process, f func(*Process) bool) {
	if !f(p) {
		s.watch[p] = append(s.watch[p], f)
	}
}

// Shutdown stops every process by its own stop settings, in parallel, and
// returns a channel closed when all processes and workers are gone.
func (s *Supervisor) Shutdown() <-chan struct{} {
	ch := make(chan struct{})
	if s.do(func() { ch = s.beginShutdown() }) {
		return ch
	}
	close(ch)
	return ch
}

func (s *Supervisor) beginShutdown() chan struct{} {
	if s.shutdown != nil {
		return s.shutdown
	}
	s.shutdown = make(chan struct{})
	s.log.Logf("INFO", "shutdown requested")
	for _, p := range s.order {
		if p.state.active() || p.state == Stopping {
			p.Stop()
		}
	}
	s.checkShutdown()
	return s.shutdown
}

func (s *Supervisor) checkShutdown() {
	if s.shutdown == nil || s.done {
		return
	}
	if len(s.workers) > 0 || slices.ContainsFunc(s.order, func(p *Process) bool { return p.w != nil }) {
		return
	}
	s.done = true
	close(s.shutdown)
}
