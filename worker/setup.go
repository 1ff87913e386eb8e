package worker

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
)

// worker is the state of one tm-worker process. Only the main goroutine
// touches it.
type worker struct {
	conn   *ipc.Conn
	spec   *ipc.Spec
	env    []string
	stdin  *os.File
	stdout *os.File
	stderr *os.File
	job    *job // nil when no job runs
}

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
	if w.stdout, err = openOutput(spec.Stdout, id); err != nil {
		return nil, fmt.Errorf("open stdout %s: %w", spec.Stdout, err)
	}
	if w.stderr, err = openOutput(spec.Stderr, id); err != nil {
		return nil, fmt.Errorf("open stderr %s: %w", spec.Stderr, err)
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
	return w, nil
}

// openOutput opens a job's output file for appending, or /dev/null for
// "". A file it creates is given to the job's user; an existing one keeps
// its owner, so a config cannot make taskmaster chown an arbitrary file.
func openOutput(path string, id *identity) (*os.File, error) {
	if path == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	const flags = os.O_WRONLY | os.O_APPEND | syscall.O_NOFOLLOW
	f, err := os.OpenFile(path, flags|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, os.ErrExist) {
		return os.OpenFile(path, flags, 0)
	}
	if err != nil {
		return nil, err
	}
	if id != nil {
		if err := f.Chown(id.uid, id.gid); err != nil {
			f.Close()
			return nil, fmt.Errorf("chown: %w", err)
		}
	}
	return f, nil
}

// jobEnv layers the job's environment: the master's, then the account's
// identity when the job runs as another user, then the config's env.
func jobEnv(spec *ipc.Spec, id *identity) []string {
	env := append([]string(nil), spec.Env...)
	if id != nil && id.acct != nil {
		a := id.acct
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
