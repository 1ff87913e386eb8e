package xmlrpc

import (
	"os"
	"syscall"
	"time"
)

// Backend is what the XML-RPC server needs from the master. Every method
// is safe for concurrent use. Names are supervisor namespecs: "group:name",
// or "name" for a process whose group has its own name (a program with
// numprocs 1). Errors are, or wrap (%w), the sentinels of errors.go; the
// server maps them to supervisor's fault codes, and any other error to
// FAILED.
type Backend interface {
	// PID is the master's process id (getPID).
	PID() int
	// State is the master's state (getState; below StateServing every
	// supervisor.* call answers SHUTDOWN_STATE).
	State() ServerState
	// Processes lists every process in the master's start order (the
	// order group and "all" operations act in). It is a snapshot: the
	// server polls it to wait for a start or a stop.
	Processes() []Process

	// Start asks the master to start one process and returns once the
	// request is taken: the process is then STARTING or beyond, or the
	// error says why not (ErrBadName, ErrAlreadyStarted, ErrNoFile,
	// ErrNotExecutable, ErrSpawn, ErrShuttingDown). The server waits for
	// RUNNING itself when the client asked it to.
	Start(name string) error
	// Stop asks the master to stop one process and returns once the
	// request is taken (ErrBadName, ErrNotRunning).
	Stop(name string) error
	// Signal sends sig to one process (ErrBadName, ErrNotRunning).
	Signal(name string, sig syscall.Signal) error
	// WriteStdin writes data to the process's stdin (ErrBadName,
	// ErrNotRunning; ErrNoFile when the process has no stdin, or it was
	// closed).
	WriteStdin(name string, data []byte) error

	// OpenLog opens a log for reading: a process's stdout or stderr log,
	// or with name "" and LogMain the master's own log. The file is
	// opened the way root opens a user's path (no symlink others own, no
	// FIFO); the server only reads, seeks and fstats it, and closes it.
	// ErrBadName for an unknown process, ErrNoFile when the log is not
	// configured or does not exist (yet).
	OpenLog(name string, log Log) (*os.File, error)
	// ClearLogs truncates a process's stdout and stderr logs, or with
	// name "" the master's log (ErrBadName, ErrNoFile, ErrFailed).
	ClearLogs(name string) error

	// ConfigInfo lists every process of the config file the master runs
	// (getAllConfigInfo), in use or not.
	ConfigInfo() []ConfigInfo
	// Reread reads the config file again and says which groups (programs)
	// it adds, changes and removes, as supervisor's `reread`; nothing is
	// applied (ErrCantReread with the file's error).
	Reread() (Changes, error)
	// AddGroup starts managing a group of the config file that is not in
	// use (ErrBadName: not in the file; ErrAlreadyAdded).
	AddGroup(name string) error
	// RemoveGroup stops managing a group whose processes are all stopped
	// (ErrBadName; ErrStillRunning).
	RemoveGroup(name string) error
	// Restart is supervisord's restart: every process stopped, the file
	// re-read, autostart programs started. It returns at once; the work
	// goes on after the answer is sent.
	Restart() error
	// Shutdown stops every process and the master. It returns at once.
	Shutdown() error
}

// Process is one process as getProcessInfo reports it.
type Process struct {
	Name, Group string
	State       ProcessState
	Start       time.Time // last start; zero if never started
	Stop        time.Time // last stop; zero if never stopped
	PID         int       // 0 when not running
	ExitStatus  int       // last exit code; -1 after a death by a signal; 0 if never exited
	SpawnErr    string    // why the last spawn failed ("" if it did not)
	StdoutLog   string    // stdout log file; "" if none
	StderrLog   string    // stderr log file; "" if none
}

// Namespec is the process's name as supervisor shows it: "name" when the
// group has the process's name, else "group:name".
func (p *Process) Namespec() string {
	if p.Group == p.Name {
		return p.Name
	}
	return p.Group + ":" + p.Name
}

// ProcessState is a process's state, numbered as supervisor's.
type ProcessState int

// supervisor's process states (supervisor/states.py).
const (
	StateStopped  ProcessState = 0
	StateStarting ProcessState = 10
	StateRunning  ProcessState = 20
	StateBackoff  ProcessState = 30
	StateStopping ProcessState = 40
	StateExited   ProcessState = 100
	StateFatal    ProcessState = 200
	StateUnknown  ProcessState = 1000
)

// String returns supervisor's state name ("RUNNING").
func (s ProcessState) String() string {
	switch s {
	case StateStopped:
		return "STOPPED"
	case StateStarting:
		return "STARTING"
	case StateRunning:
		return "RUNNING"
	case StateBackoff:
		return "BACKOFF"
	case StateStopping:
		return "STOPPING"
	case StateExited:
		return "EXITED"
	case StateFatal:
		return "FATAL"
	}
	return "UNKNOWN"
}

// running is supervisor's RUNNING_STATES: a start is refused, a stop acts.
func (s ProcessState) running() bool {
	return s == StateRunning || s == StateBackoff || s == StateStarting
}

// stopped is supervisor's STOPPED_STATES: a stop with wait is over.
func (s ProcessState) stopped() bool {
	return s == StateStopped || s == StateExited || s == StateFatal || s == StateUnknown
}

// signallable is supervisor's SIGNALLABLE_STATES.
func (s ProcessState) signallable() bool {
	return s == StateRunning || s == StateStarting || s == StateStopping
}

// ServerState is the master's state, numbered as supervisord's.
type ServerState int

// supervisord's states (supervisor/states.py SupervisorStates).
const (
	StateShutdown   ServerState = -1
	StateRestarting ServerState = 0
	StateServing    ServerState = 1 // supervisor's RUNNING
	StateBroken     ServerState = 2 // supervisor's FATAL
)

// String returns supervisord's state name.
func (s ServerState) String() string {
	switch s {
	case StateShutdown:
		return "SHUTDOWN"
	case StateRestarting:
		return "RESTARTING"
	case StateServing:
		return "RUNNING"
	case StateBroken:
		return "FATAL"
	}
	return "UNKNOWN"
}

// Log names one of the logs OpenLog opens.
type Log int

const (
	LogStdout Log = iota // a process's stdout log
	LogStderr            // a process's stderr log
	LogMain              // the master's own log (name "")
)

// ConfigInfo is one process of the config file (getAllConfigInfo). Zero
// values are sent as they are; strings that are "" are sent as "none", as
// supervisor sends None.
type ConfigInfo struct {
	Name, Group    string
	InUse          bool // the master manages its group now
	AutoStart      bool
	AutoRestart    string // "unexpected", "true" or "false", as supervisor 4.3 says it
	Command        string
	Directory      string // "" when the master's is inherited
	UID            int    // -1 when the master's is kept
	ExitCodes      []int
	GroupPrio      int
	ProcessPrio    int
	KillAsGroup    bool
	RedirectStderr bool
	StartRetries   int
	StartSecs      int
	StopSignal     syscall.Signal
	StopWaitSecs   int
	StdoutLog      string
	StdoutMaxBytes int64
	StdoutBackups  int
	StderrLog      string
	StderrMaxBytes int64
	StderrBackups  int
}

// Changes is what a re-read of the config file would do, by group name.
type Changes struct {
	Added, Changed, Removed []string
}
