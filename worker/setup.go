package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/safepath"
)

// worker is the state of one tm-worker process. Only the main goroutine
// touches it.
type worker struct {
	conn   *ipc.Conn
	spec   *ipc.Spec
	env    []string
	stdin  *os.File
	stdout *output
	stderr *output
	merged bool       // stdout and stderr are one file: the job gets one pipe
	term   *terminal  // a tty job's pty and attached clients; nil otherwise
	state  *stateFile // RUNDIR/workers/NAME.json; nil when none
	job    *job       // nil when no job runs
	// why, once set, is why the worker is ending (for the state file).
	why string
	// forks takes the forks to the thread Main locked (see serve); nil:
	// the caller is on that thread.
	forks chan func()
}

// defaultRing is the output kept per discarded stream.
const defaultRing = 64 << 10

// setup runs the privileged steps and the drop, in the order the design
// fixes. On error nothing has been started.
func setup(spec *ipc.Spec) (*worker, error) {
	w := &worker{spec: spec}
	var err error
	if w.stdin, err = os.Open(os.DevNull); err != nil {
		return nil, fmt.Errorf("open stdin %s: %w", os.DevNull, err)
	}
	id, err := resolveIdentity(spec.UID, spec.GID)
	if err != nil {
		return nil, err
	}
	if err := w.openOutputs(id); err != nil {
		return nil, err
	}
	if w.state, err = openStateFile(spec.StateDir, spec.Name, spec.Generation, w.notice); err != nil {
		return nil, err
	}
	if err := dropPrivileges(id); err != nil {
		return nil, err
	}
	if spec.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	if spec.Umask >= 0 {
		syscall.Umask(spec.Umask)
	}
	if spec.Dir != "" {
		if err := os.Chdir(spec.Dir); err != nil {
			return nil, fmt.Errorf("chdir %s: %w", spec.Dir, err)
		}
	}
	w.env = jobEnv(spec, id)
	if w.state != nil {
		wd, _ := os.Getwd()
		w.state.st.UID, w.state.st.GID = os.Getuid(), os.Getgid()
		w.state.st.Umask, w.state.st.WorkingDir = currentUmask(), wd
	}
	return w, nil
}

// openOutputs opens the log files before the privilege drop, so a job
// whose user cannot create files in the log folder still gets its logs.
func (w *worker) openOutputs(id *identity) error {
	spec := w.spec
	ringBytes := spec.RingBytes
	if ringBytes == 0 {
		ringBytes = defaultRing
	}
	w.stdout = &output{name: "stdout", ring: ring{size: ringBytes}, keep: spec.TTY}
	if spec.TTY {
		w.term = newTerminal()
	}
	w.stderr = &output{name: "stderr", ring: ring{size: ringBytes}}
	var dirs logDirs
	defer dirs.close()
	var err error
	if spec.Stdout != "" {
		if w.stdout.file, err = dirs.openLog(spec.Stdout, spec.StdoutMaxBytes, spec.StdoutBackups, spec.SharedLogs, id, w.logNotice); err != nil {
			return fmt.Errorf("open stdout %s: %w", spec.Stdout, err)
		}
	}
	switch {
	case spec.Stderr != "" && spec.Stderr == spec.Stdout:
		w.stderr.file, w.merged = w.stdout.file, true
	case spec.Stderr != "":
		if w.stderr.file, err = dirs.openLog(spec.Stderr, spec.StderrMaxBytes, spec.StderrBackups, spec.SharedLogs, id, w.logNotice); err != nil {
			return fmt.Errorf("open stderr %s: %w", spec.Stderr, err)
		}
	}
	return nil
}

// logDirs keeps the log folder resolved for stdout, so that stderr in the
// same folder (the usual case) is opened without walking it again: the
// folder held open is the one checked, as for a single file.
type logDirs struct {
	path string
	dir  *safepath.Dir
}

func (ds *logDirs) openLog(path string, maxBytes int64, backups int, shared bool, id *identity, n notify) (*logFile, error) {
	if dir := filepath.Dir(path); ds.dir == nil || ds.path != dir {
		d, err := safepath.OpenDir(dir)
		if err != nil {
			return nil, err
		}
		ds.close()
		ds.path, ds.dir = dir, d
	}
	return openLogFileIn(ds.dir, path, maxBytes, backups, shared, id, n)
}

func (ds *logDirs) close() {
	if ds.dir != nil {
		ds.dir.Close()
		ds.dir = nil
	}
}

// notice reports a problem to the master's event log. Any goroutine.
func (w *worker) notice(msg string) { w.logNotice(msg, false) }

// jobEnv layers the job's environment: the master's (or, with ClearEnv,
// the clean base the master sent), then the account's identity when the
// job runs as another user or from a clean base, then the config's env.
// It runs after the privilege drop: the worker's uid is the job's.
func jobEnv(spec *ipc.Spec, id *identity) []string {
	env := append([]string(nil), spec.Env...)
	var a *account
	if id != nil {
		a = id.acct
	}
	if a == nil && spec.ClearEnv {
		a, _ = lookupAccount(os.Getuid()) // not in passwd: HOME=/, SHELL=/bin/sh
	}
	if a != nil {
		env = setEnv(env, "HOME", a.home)
		env = setEnv(env, "USER", a.name)
		env = setEnv(env, "LOGNAME", a.name)
		env = setEnv(env, "SHELL", a.shell)
	}
	for _, kv := range spec.JobEnv {
		k, v, _ := cut(kv)
		env = setEnv(env, k, v)
	}
	return env
}

func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if key, _, ok := cut(kv); ok && key == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

func cut(kv string) (k, v string, ok bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

func (w *worker) send(m ipc.Message) {
	// A failed send means the master is gone; the reader sees EOF and the
	// loop winds down, so the error needs no handling here.
	w.conn.Send(m, 5*time.Second)
}
