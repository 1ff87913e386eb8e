package master

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/master/localsock"
	"github.com/taskmaster/taskmaster/worker/safepath"
	"github.com/taskmaster/taskmaster/worker/statefile"
)

// RunDir is the master's claim on its rundir: taskmaster.pid, held under
// an exclusive lock for the master's life.
//
// Invariant: everything in it was opened through the rundir's descriptor,
// after localsock.OpenFolder proved that only root and this uid control the rundir
// and every folder above it; nothing is ever opened, created, chmod'ed or
// removed through a path another user could redirect (issue 10, point 2:
// a pre-created rundir with symlinks in it made root truncate and chmod
// files of the attacker's choosing).
//
// The state files live in STATEDIR/workers: STATEDIR is the rundir, or
// another folder (a tmpfs under /run, see statefile.Parent) held to the
// same rules and locked by the same pid file, so no two masters share a
// workers folder (each would take the other's workers for a previous
// master's).
type RunDir struct {
	Path     string
	StateDir string   // STATEDIR/workers, the workers' state files
	States   *os.File // the workers folder, for the master's own records
	// Legacy is RUNDIR/workers when the state files are elsewhere and
	// it exists (a previous master kept them there): read at start for
	// that master's workers, never written. nil otherwise.
	Legacy   *os.File
	dir      *os.File
	pid      *os.File
	stateDir *os.File // STATEDIR when not the rundir
	statePid *os.File // its pid file, locked
}

// pidFile and stateDirName are the rundir's entries.
const (
	pidFile      = "taskmaster.pid"
	stateDirName = statefile.DirName
)

// LockRunDir opens dir (creating it, mode 0700, if needed), refuses it
// unless this uid owns it and no one else can write it or any folder above
// it, and locks its pid file. If another master holds it, the error names
// that master's pid. stateParent is STATEDIR (statefile.Parent): "" or dir
// for the rundir itself, else a folder opened, refused and locked as the
// rundir is, its missing folders created (mode 0700).
func LockRunDir(dir, stateParent string) (*RunDir, error) {
	d, err := localsock.OpenFolder(dir, "rundir", safepath.Own)
	if err != nil {
		return nil, err
	}
	rd := &RunDir{Path: d.Name(), dir: d}
	if err := rd.claim(stateParent); err != nil {
		rd.close()
		return nil, err
	}
	return rd, nil
}

func (rd *RunDir) claim(stateParent string) error {
	// The workers folder is reachable by every worker that opened it
	// before dropping; the rundir's own mode keeps everyone else out.
	if err := tighten(rd.dir, "rundir"); err != nil {
		return err
	}
	f, err := lockPidFile(rd.dir, "rundir")
	rd.pid = f
	if err != nil {
		return err
	}
	parent := rd.dir
	if stateParent != "" && filepath.Clean(stateParent) != rd.Path {
		if parent, err = rd.claimStateDir(stateParent); err != nil {
			return err
		}
	}
	states, err := makeStateDir(parent)
	if err != nil {
		return err
	}
	rd.States, rd.StateDir = states, states.Name()
	return nil
}

// claimStateDir opens and locks STATEDIR as the rundir is, and opens the
// rundir's own workers folder, if any, as Legacy.
func (rd *RunDir) claimStateDir(path string) (*os.File, error) {
	d, err := localsock.OpenFolder(path, "statedir", safepath.Own)
	if err != nil {
		return nil, err
	}
	rd.stateDir = d
	if err := tighten(d, "statedir"); err != nil {
		return nil, err
	}
	if rd.statePid, err = lockPidFile(d, "statedir"); err != nil {
		return nil, err
	}
	rd.Legacy, _ = openStateDir(rd.dir)
	return d, nil
}

// lockPidFile creates, locks and fills the pid file in dir. If another
// master holds it, the error names that master's pid.
func lockPidFile(dir *os.File, what string) (*os.File, error) {
	f, err := openRegularAt(dir, pidFile, unix.O_RDWR|unix.O_CREAT, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		if errors.Is(err, unix.EWOULDBLOCK) {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return f, fmt.Errorf("%w (pid %d) with %s %s", ErrLocked, pid, what, dir.Name())
		}
		return f, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	if err := f.Truncate(0); err != nil {
		return f, fmt.Errorf("pid file %s: %w", f.Name(), err)
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return f, fmt.Errorf("pid file %s: %w", f.Name(), err)
	}
	return f, nil
}

// tighten takes group and other access away from dir (through its
// descriptor): the workers folder in it is writable by all.
func tighten(dir *os.File, what string) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(dir.Fd()), &st); err != nil {
		return fmt.Errorf("%s %s: %w", what, dir.Name(), err)
	}
	if st.Mode&0o077 == 0 {
		return nil
	}
	if err := unix.Fchmod(int(dir.Fd()), st.Mode&0o700); err != nil {
		return fmt.Errorf("%s %s: chmod: %w", what, dir.Name(), err)
	}
	return nil
}

// openRegularAt opens name in dir without following a symlink or blocking
// on a FIFO, and accepts only a regular file of ours with one link (a
// hard link to another file would make us write that file).
func openRegularAt(dir *os.File, name string, flags int, mode uint32) (*os.File, error) {
	path := filepath.Join(dir.Name(), name)
	fd, err := unix.Openat(int(dir.Fd()), name, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, mode)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s: is a symbolic link, which root never follows here; remove it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		err = errors.New("not a regular file")
	case st.Uid != uint32(os.Geteuid()):
		err = fmt.Errorf("owned by uid %d", st.Uid)
	case st.Nlink != 1:
		err = fmt.Errorf("has %d hard links", st.Nlink)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w; remove it", path, err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// makeStateDir creates the workers' state folder in the rundir: sticky
// and writable by all, so a worker that dropped to its job's user can
// replace its own file and no other; only reachable through the 0700
// rundir, by descriptors the workers opened before dropping. An existing
// one must be a real folder of ours; its mode is set through its
// descriptor.
func makeStateDir(parent *os.File) (*os.File, error) {
	path := filepath.Join(parent.Name(), stateDirName)
	if err := unix.Mkdirat(int(parent.Fd()), stateDirName, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("state folder %s: %w", path, err)
	}
	f, err := openStateDir(parent)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	if err := unix.Fchmod(fd, uint32(statefile.DirMode.Perm())|unix.S_ISVTX); err != nil {
		f.Close()
		return nil, fmt.Errorf("state folder %s: chmod: %w", path, err)
	}
	return f, nil
}

// openStateDir opens parent's existing workers folder, which must be a
// real folder (never a symlink) of ours.
func openStateDir(parent *os.File) (*os.File, error) {
	path := filepath.Join(parent.Name(), stateDirName)
	fd, err := unix.Openat(int(parent.Fd()), stateDirName, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("state folder %s: %w; remove it", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("state folder %s: %w", path, err)
	}
	if st.Uid != uint32(os.Geteuid()) {
		f.Close()
		return nil, fmt.Errorf("state folder %s: owned by uid %d, not %d; remove it", path, st.Uid, os.Geteuid())
	}
	return f, nil
}

// Release removes the pid files and drops the locks.
func (rd *RunDir) Release() {
	if rd.stateDir != nil {
		unix.Unlinkat(int(rd.stateDir.Fd()), pidFile, 0)
	}
	unix.Unlinkat(int(rd.dir.Fd()), pidFile, 0)
	rd.close()
}

func (rd *RunDir) close() {
	for _, f := range []*os.File{rd.pid, rd.statePid, rd.States, rd.Legacy, rd.stateDir, rd.dir} {
		if f != nil {
			f.Close()
		}
	}
}
