package master

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
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
	// Load reads the config again for a reload; nil: config.Load of the
	// file the master started with.
	Load func() (*config.Config, error)
	// StateDir is the workers folder (RUNDIR/workers or STATEDIR/workers,
	// see statefile.Parent), where workers keep state files; "":
	// none. A reload cannot move the rundir, so it holds for the run.
	StateDir string
	// States is that folder, open: the master records there the state of
	// a slot that has no worker to do it. nil: no records.
	States *os.File
	// Generation is the highest state-file generation seen at start (a
	// previous master's): every writer this master makes is above it.
	Generation int64
	// ReadyTimeout bounds a worker's set-up: one not Ready by then is
	// killed and its slot gets a spawn error. 0: DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// ShutdownGrace is what a shutdown allows beyond the longest stoptime
	// before it kills the workers left, and again before it gives up on
	// them. 0: DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// OnPanic runs before a panic in any of the master's goroutines takes
	// the process down (the shell restores the terminal there).
	OnPanic func()
}

// Defaults of the Options' bounds.
const (
	DefaultReadyTimeout  = 10 * time.Second
	DefaultShutdownGrace = 5 * time.Second
)

// Supervisor owns every Process. All its state is touched only by the loop
// goroutine (Run); other goroutines reach it through Post and do.
type Supervisor struct {
	cfg *config.Config
	// loaded is the config as last read from the file (at start, by
	// reread, reload and AddProgram), which `avail` lists, as supervisor
	// does. cfg is what runs: loaded less the programs RemoveProgram made
	// inactive, and older than loaded after a reread until a reload.
	loaded *config.Config
	clock  Clock
	log    *EventLog
	opts   Options
	procs  map[string]*Process   // by name; retiring processes are not here
	progs  map[string][]*Process // by program, in process index order
	order  []*Process            // status order: config order, index, then retiring
	// retiring are processes of removed programs or slots, stopping before
	// they are forgotten.
	retiring []*Process
	// later holds processes whose watchers must run once the current
	// event is fully handled: a watcher may start or stop the process, which
	// must not happen in the middle of the transition that woke it.
	later []*Process
	// starts wait their turn on the loop: those of the initial pass, of a
	// group start, of a reload. The loop runs one at a time between the
	// events ready then, so it answers requests while a thousand
	// programs start.
	starts []queuedStart
	notify bool // event lines on (config notify, `notify on|off`)
	// subs are `events` streams (ctl's shell); a slow one misses lines.
	subs     map[chan string]bool
	execs    commandCount  // commands in flight, so Serve lets them answer
	reloadMu sync.Mutex    // one reload at a time
	reloads  chan struct{} // SIGHUPs, folded: one pending at most
	posts    chan func()
	// setups bounds the workers being created or in their set-up at once
	// (see holdSetup).
	setups  chan struct{}
	nullMu  sync.Mutex // guards null
	null    *os.File   // /dev/null, every worker's stdin and stdout
	workers map[*workerProc]bool
	watch   map[*Process][]func(*Process) bool
	// shutdown is non-nil once a shutdown began; closed when it finished.
	shutdown chan struct{}
	done     bool
	// closed is closed when Run returns: later Posts are dropped.
	closed chan struct{}
	// life is cancelled when Run returns: it ends commands that would
	// otherwise go on (tail -f), so the master exits promptly.
	life   context.Context
	finish context.CancelFunc
	// generation is the last state-file generation handed out.
	generation int64
}

// New builds a Supervisor for cfg. Nothing starts until Run.
func New(cfg *config.Config, log *EventLog, opts Options) *Supervisor {
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Exe == "" {
		opts.Exe = "/proc/self/exe"
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	s := &Supervisor{
		cfg: cfg, loaded: cfg, clock: opts.Clock, log: log, opts: opts,
		procs:      map[string]*Process{},
		progs:      map[string][]*Process{},
		reloads:    make(chan struct{}, 1),
		posts:      make(chan func(), 1024),
		workers:    map[*workerProc]bool{},
		watch:      map[*Process][]func(*Process) bool{},
		closed:     make(chan struct{}),
		notify:     cfg.Global.Notify,
		subs:       map[chan string]bool{},
		setups:     make(chan struct{}, setupSlots()),
		generation: opts.Generation,
	}
	s.life, s.finish = context.WithCancel(context.Background())
	if opts.Load == nil {
		opts.Load = func() (*config.Config, error) { return config.Load(cfg.Path) }
	}
	s.opts = opts
	for _, name := range cfg.Order {
		s.addProgram(cfg.Programs[name])
	}
	s.reorder()
	return s
}

// addProgram creates prog's processes; it does not start them.
func (s *Supervisor) addProgram(prog *config.Program) []*Process {
	var ps []*Process
	for _, name := range prog.ProcessNames() {
		ps = append(ps, s.addProcess(name, prog))
	}
	return ps
}

func (s *Supervisor) addProcess(name string, prog *config.Program) *Process {
	p := newProcess(name, prog, s)
	s.procs[name] = p
	s.progs[prog.Name] = append(s.progs[prog.Name], p)
	return p
}

// reorder rebuilds the status order after processes came or went.
func (s *Supervisor) reorder() {
	s.order = s.order[:0]
	for _, name := range s.cfg.Order {
		s.order = append(s.order, s.progs[name]...)
	}
	s.order = append(s.order, s.retiring...)
}

// Run starts the autostart programs and serves events until Shutdown has
// stopped everything.
func (s *Supervisor) Run() {
	s.log.Logf("INFO", "started (pid %d), config %s", os.Getpid(), s.cfg.Path)
	s.GoSafe(s.reloader)
	for _, p := range s.order {
		if p.Program.AutoStart {
			s.autoStart(p)
		}
	}
	for !s.done {
		s.step()
		s.runWatchers()
	}
	close(s.closed)
	s.finish()
	s.log.Logf("INFO", "shutdown complete")
}

// queuedStart is a start waiting its turn. done, if set, is told the
// outcome as startOne tells it; auto marks a start nobody asked for (an
// autostart, a reload's new process), which a process started or stopped
// by hand meanwhile no longer needs.
type queuedStart struct {
	p    *Process
	wait bool
	auto bool
	done func(error)
}

// queueStart queues a start asked for: startOne runs it in its turn.
// Loop only.
func (s *Supervisor) queueStart(p *Process, wait bool, done func(error)) {
	p.queued++
	s.starts = append(s.starts, queuedStart{p: p, wait: wait, done: done})
}

// autoStart queues the start of a process nobody asked to start (its
// program says autostart). Loop only.
func (s *Supervisor) autoStart(p *Process) {
	p.queued++
	s.starts = append(s.starts, queuedStart{p: p, auto: true, done: func(error) {}})
}

// cancelStarts answers p's queued starts with err and drops them: a stop
// asked for after them is the user's last word. It reports whether there
// were any. Loop only.
func (s *Supervisor) cancelStarts(p *Process, err error) bool {
	if p.queued == 0 {
		return false
	}
	p.queued = 0
	var cancelled []queuedStart
	s.starts = slices.DeleteFunc(s.starts, func(q queuedStart) bool {
		if q.p == p {
			cancelled = append(cancelled, q)
			return true
		}
		return false
	})
	for _, q := range cancelled {
		q.done(err)
	}
	return true
}

// step does the loop's next piece of work. With starts queued: every
// event ready now (a request, a worker's message, a timer), then one
// start, so a request waits behind one start at most and the starts go on
// while events keep coming. Otherwise: the next event, when it comes.
func (s *Supervisor) step() {
	if len(s.starts) == 0 {
		(<-s.posts)()
		return
	}
	for n := len(s.posts); n > 0 && !s.done; n-- {
		(<-s.posts)()
		s.runWatchers()
	}
	s.runQueuedStart()
}

// runQueuedStart runs the oldest queued start, if any. Loop only.
func (s *Supervisor) runQueuedStart() {
	if len(s.starts) == 0 {
		return
	}
	q := s.starts[0]
	s.starts[0] = queuedStart{}
	s.starts = s.starts[1:]
	if len(s.starts) == 0 {
		s.starts = nil // give the array back
	}
	p := q.p
	p.queued--
	switch {
	case s.shutdown != nil:
		q.done(ErrShuttingDown)
	case s.procs[p.Name] != p:
		// Removed or reshaped by a reload meanwhile.
		q.done(noSuchProcess(p.Name))
	case q.auto && (p.ran || p.state != Stopped):
	default:
		s.startOne(p, q.wait, q.done)
	}
}

// dropStarts answers every queued start with ErrShuttingDown. Loop only.
func (s *Supervisor) dropStarts() {
	for _, q := range s.starts {
		q.p.queued--
		q.done(ErrShuttingDown)
	}
	s.starts = nil
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
		// f may have been the last thing the loop ran (a shutdown with
		// nothing to wait for): it closed done before closed.
		select {
		case <-done:
			return true
		default:
			return false
		}
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
	// Event lines are for what the user did not ask for and must know:
	// exits, restarts, BACKOFF, FATAL, RUNNING reached, stops completed.
	shown := ev.Warn || ev.Err || (from != p.state && p.state != Starting && p.state != Stopping)
	if s.notify && shown {
		line := fmt.Sprintf("[%s] %s %s", s.clock.Now().Format("15:04:05"), p.Name, ev.Msg)
		if s.opts.Notify != nil {
			s.opts.Notify(line)
		}
		for ch := range s.subs {
			select {
			case ch <- line:
			default:
			}
		}
	}
	if from != p.state && p.w == nil {
		s.record(p)
	}
	if len(s.watch[p]) > 0 && !slices.Contains(s.later, p) {
		s.later = append(s.later, p)
	}
	s.checkShutdown()
}

// runWatchers calls the watchers of every process that changed, until no
// more changes are pending. Loop only, between events.
func (s *Supervisor) runWatchers() {
	for len(s.later) > 0 {
		p := s.later[0]
		s.later = s.later[1:]
		ws := s.watch[p]
		var kept []func(*Process) bool
		for _, w := range ws {
			if !w(p) {
				kept = append(kept, w)
			}
		}
		// A watcher may have added watchers of its own meanwhile.
		kept = append(kept, s.watch[p][len(ws):]...)
		if len(kept) == 0 {
			delete(s.watch, p)
		} else {
			s.watch[p] = kept
		}
	}
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
	s.dropStarts()
	var longest time.Duration
	for _, p := range s.order {
		longest = max(longest, p.Program.StopTime)
		if needsStop(p) {
			p.Stop()
		}
	}
	// Whatever a worker does, the shutdown ends: past the longest
	// stoptime and a grace its worker is killed, and a grace later the
	// master stops waiting for it.
	grace := s.opts.ShutdownGrace
	s.AfterFunc(longest+grace, func() { s.Post(s.killLeftWorkers) })
	s.AfterFunc(longest+2*grace, func() { s.Post(s.abandonWorkers) })
	s.checkShutdown()
	return s.shutdown
}

// killLeftWorkers SIGKILLs the workers a shutdown is still waiting for
// (their jobs die with them: PR_SET_PDEATHSIG).
func (s *Supervisor) killLeftWorkers() {
	if s.done {
		return
	}
	for wp := range s.workers {
		s.log.Write(wp.p.Name, Event{Msg: "killing worker: still there after stoptime at shutdown", Pid: wp.p.pid, Warn: true})
		wp.signalKill()
	}
}

// abandonWorkers ends a shutdown that workers still hold (a process the
// kernel will not let die): they are named in the log and left.
func (s *Supervisor) abandonWorkers() {
	if s.done {
		return
	}
	var pids []string
	for wp := range s.workers {
		pids = append(pids, fmt.Sprintf("%s (pid %d)", wp.p.Name, wp.pid()))
	}
	slices.Sort(pids)
	s.log.Logf("ERROR", "shutdown: gave up waiting for %d workers: %s", len(pids), strings.Join(pids, ", "))
	s.finishShutdown()
}

func (s *Supervisor) checkShutdown() {
	if s.shutdown == nil || s.done {
		return
	}
	if len(s.workers) > 0 || slices.ContainsFunc(s.order, func(p *Process) bool { return p.w != nil }) {
		return
	}
	s.finishShutdown()
}

func (s *Supervisor) finishShutdown() {
	s.done = true
	close(s.shutdown)
}

func (s *Supervisor) processNames() []string {
	var names []string
	for _, p := range s.order {
		if s.procs[p.Name] == p {
			names = append(names, p.Name)
		}
	}
	return names
}

// commandCount counts commands in flight; Serve waits for them to answer
// (a ctl `shutdown` must get its reply) before the process exits.
type commandCount struct {
	mu   sync.Mutex // guards n and idle
	n    int
	idle chan struct{} // closed when n drops to 0, if someone waits
}

func (c *commandCount) add(d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += d
	if c.n == 0 && c.idle != nil {
		close(c.idle)
		c.idle = nil
	}
}

// wait returns when no command runs, or after d.
func (c *commandCount) wait(d time.Duration) {
	c.mu.Lock()
	if c.n == 0 {
		c.mu.Unlock()
		return
	}
	if c.idle == nil {
		c.idle = make(chan struct{})
	}
	idle := c.idle
	c.mu.Unlock()
	select {
	case <-idle:
	case <-time.After(d):
	}
}

// GoSafe runs f on a new goroutine (faces serve their clients so); a panic there calls OnPanic first, so
// no crash leaves the terminal raw.
func (s *Supervisor) GoSafe(f func()) { go s.guard(f) }

// guard runs f; if it panics, OnPanic runs and the panic goes on.
func (s *Supervisor) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			if s.opts.OnPanic != nil {
				s.opts.OnPanic()
			}
			panic(r)
		}
	}()
	f()
}

// Logf writes a line at level (INFO, WARN, ERROR) to the event log; faces
// log refusals of clients so.
func (s *Supervisor) Logf(level, format string, args ...any) { s.log.Logf(level, format, args...) }
