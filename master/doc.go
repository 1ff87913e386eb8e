// Package master is taskmaster's supervisor: the state machine of every
// process slot, the loop that owns it, and the typed control API that every
// face calls.
//
// Layout (a newcomer's map):
//
//   - master (this package): the state machine (state.go: the states and
//     their legal moves; process.go: one slot's machine; supervisor.go: the
//     loop that owns every slot; reload.go, programs.go: config changes;
//     spawn.go: the master's side of a tm-worker), and the control API
//     (api.go, output.go, attach.go, status.go, errors.go).
//   - master/command: the command language of the shell and of `taskmaster
//     ctl`: one table gives each command its help, dispatch, argument
//     checks and Tab completion; text is made there, from the API's values.
//   - master/ctl: the ctl socket, which runs command lines of that language
//     for `taskmaster ctl`.
//   - master/xmlrpc: supervisor's XML-RPC API, on this package's API
//     (its own small interface over it).
//   - worker/statefile: the state files the workers (and the master, for a
//     slot with no worker) keep in STATEDIR/workers.
//
// # Invariants
//
// The Supervisor's state is touched only by its loop goroutine (Run);
// every exported method of the API is safe from any other goroutine and
// must not be called from the loop. A Process changes state only through
// setState, which refuses any move the state table does not allow.
//
// At scale (issue 12): starts wait their turn in a queue, one run between
// the events ready, so the loop answers during a mass start; at most
// setupSlots workers are created or in set-up at once; the master holds
// one descriptor per worker (its socket: no pidfd, the worker is reaped by
// pid, never signalled once reaped) and no receive buffer while idle.
//
// # The control API
//
// Operations return values and typed errors; faces test errors with
// errors.Is against the kinds in errors.go (ErrNoSuchProcess,
// ErrBadName, ErrBadArguments, ErrAlreadyStarted, ErrNotRunning,
// ErrStopping, ErrSpawn, ErrAbnormal, ErrBadSignal, ErrShuttingDown,
// ErrNoLog, ErrNoOutput, ErrNotTTY, ErrNoAnswer, ErrFailed,
// ErrAlreadyAdded, ErrStillRunning, ErrConfig), and make their own text
// from them (ErrorText and Reason give the shell's).
//
// NAMEs are `all`, a program (all its processes), `prog:*` and a
// process's name. An operation on several processes (Start, Stop,
// Signal) acts on every process named alone (and reports its error: not
// running, already started), but skips a process reached only through a
// group form (all, prog:*, a program of several processes) that does not
// need it, as supervisor's group calls do.
//
//	func (s *Supervisor) Status(names []string) ([]ProcessInfo, error)
//	func (s *Supervisor) ProcessNames() []string
//	func (s *Supervisor) Avail() []ConfigInfo
//	func (s *Supervisor) Start(ctx context.Context, names []string, wait bool) ([]Result, error)
//	func (s *Supervisor) Stop(ctx context.Context, names []string, wait bool) ([]Result, error)
//	func (s *Supervisor) Restart(ctx context.Context, names []string) ([]Result, error)
//	func (s *Supervisor) Signal(sig syscall.Signal, names []string) ([]Result, error)
//	func (s *Supervisor) SignalName(sig string, names []string) ([]Result, error)
//	func (s *Supervisor) Clear(names []string) ([]Result, error)
//	func (s *Supervisor) Tail(name, stream string, r LogRead) (LogChunk, error)
//	func (s *Supervisor) MainTail(r LogRead) (LogChunk, error)
//	func (s *Supervisor) MainLogPath() string
//	func (s *Supervisor) Reread() (Plan, error)
//	func (s *Supervisor) Reload() (Plan, <-chan struct{}, error)
//	func (s *Supervisor) RequestReload()
//	func (s *Supervisor) AddProgram(name string) error
//	func (s *Supervisor) RemoveProgram(name string) error
//	func (s *Supervisor) WriteStdin(name string, data []byte) error
//	func (s *Supervisor) Attachable(name string) error
//	func (s *Supervisor) Attach(name string, rows, cols uint16, f *os.File) error
//	func (s *Supervisor) SetNotify(on bool) error
//	func (s *Supervisor) Events(ctx context.Context) <-chan string
//	func (s *Supervisor) Pid() int
//	func (s *Supervisor) Version() string
//	func (s *Supervisor) Shutdown() <-chan struct{}
//	func (s *Supervisor) Begin(ctx context.Context) (context.Context, func())
//	func (s *Supervisor) Logf(level, format string, args ...any)
//
// A face is served by Serve through ServeOptions.Faces: it gets the
// Supervisor once built, and is closed when the master exits. It calls
// Begin around each request so that Serve lets the request answer before
// the process exits.
package master
