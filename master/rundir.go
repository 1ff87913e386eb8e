package master

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker"
)

// RunDir is the master's claim on its rundir: taskmaster.pid, held under
// an exclusive lock for the master's life.
type RunDir struct {
	Path     string
	StateDir string // Path/workers, the workers' state files
	pid      *os.File
}

// LockRunDir creates dir (mode 0700) if needed and locks its pid file. If
// another master holds it, the error names that master's pid.
func LockRunDir(dir string) (*RunDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("rundir %s: %w", dir, err)
	}
	path := filepath.Join(dir, "taskmaster.pid")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, fmt.Errorf("%w (pid %d) with rundir %s", ErrLocked, pid, dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	states := filepath.Join(dir, "workers")
	if err := makeStateDir(states); err != nil {
		f.Close()
		return nil, err
	}
	return &RunDir{Path: dir, StateDir: states, pid: f}, nil
}

// makeStateDir creates the workers' state folder: sticky and writable by
// all, so a worker that dropped to its job's user can replace its own
// file and no other; only reachable through the 0700 rundir, by
// descriptors the workers opened before dropping.
func makeStateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("state folder %s: %w", dir, err)
	}
	if err := os.Chmod(dir, worker.StateDirMode); err != nil {
		return fmt.Errorf("state folder %s: %w", dir, err)
	}
	return nil
}

// Release removes the pid file and drops the lock.
func (r *RunDir) Release() {
	os.Remove(r.pid.Name())
	r.pid.Close()
}
