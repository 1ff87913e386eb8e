package config

import (
	"fmt"
	"syscall"
	"time"
)

// Config is a validated configuration. Every path in it is absolute.
type Config struct {
	// Path is the config file as the user named it (used in messages).
	Path string
	// Dir is the absolute folder of the config file; relative paths in the
	// file resolve against it.
	Dir      string
	Global   Global
	Programs map[string]*Program
	// Order lists program names in the order they appear in the file.
	Order []string

	// cmdAt locates each program's cmd value, for Warnings. It lives here
	// rather than in Program so that moving a program in the file does not
	// make it compare as changed on reload.
	cmdAt map[string]*Error
}

// Global is the optional `taskmaster:` section.
type Global struct {
	LogFile string // default Dir/taskmaster.log
	RunDir  string // default Dir/run
	// StateDir holds the workers' state files in its `workers` folder;
	// default "": statefile.Parent derives it at start (the rundir, or a
	// folder under /run when root and /run is a tmpfs).
	StateDir  string
	Socket    string // default RunDir/taskmaster.sock
	History   string // default ~/.taskmaster_history ("~/" expanded), RunDir/history when no home is known
	DetachKey []byte // default {0x1d} ("^]"); "ctrl-p,ctrl-q" gives {0x10, 0x11}
	Notify    bool   // default true
	XMLRPC    string // supervisor's XML-RPC API on a unix socket; default RunDir/supervisor.sock, "" for `none`
	Inet      *Inet  // supervisor's XML-RPC API over TCP; default nil (off)
}

// AutoRestart is a program's restart policy.
type AutoRestart int

const (
	RestartUnexpected AutoRestart = iota // default
	RestartAlways
	RestartNever
)

// String returns the policy as written in the config file.
func (r AutoRestart) String() string {
	switch r {
	case RestartUnexpected:
		return "unexpected"
	case RestartAlways:
		return "always"
	case RestartNever:
		return "never"
	}
	return fmt.Sprintf("AutoRestart(%d)", int(r))
}

// Program is one `programs.NAME` entry.
type Program struct {
	Name           string
	Cmd            string   // as written
	Argv           []string // Cmd split like a shell; Argv[0] made absolute if it holds a '/'
	NumProcs       int      // default 1
	Umask          int      // -1: inherit the master's
	WorkingDir     string   // "": inherit the master's
	AutoStart      bool     // default true
	AutoRestart    AutoRestart
	ExitCodes      []int // default [0]; may be empty (every exit unexpected)
	StartRetries   int   // default 3
	StartTime      time.Duration
	StopSignal     syscall.Signal // default SIGTERM
	StopTime       time.Duration  // default 10s
	Stdout         string         // "": discard
	Stderr         string         // "": discard
	StdoutMaxBytes int64          // default 50 MiB; 0 never rotate
	StdoutBackups  int            // default 10
	StderrMaxBytes int64
	StderrBackups  int
	Env            map[string]string // never nil; values as written (`ANSWER: 42` is "42")
	// ClearEnv starts the job from a clean environment instead of the
	// master's: PATH=CleanPath, the HOME, USER, LOGNAME and SHELL of the
	// job's user, then Env. Default false: the master's environment.
	ClearEnv   bool
	User       string // as written; "" when unset
	Group      string
	UID        int // -1 when User is unset
	GID        int // -1 when neither User nor Group is set
	TTY        bool
	NoNewPrivs bool
}
