package worker

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// stateFile keeps a worker's state file current. The worker has dropped
// its privileges when it writes, so it writes through a descriptor of the
// folder opened before the drop: the folder (mode 1733, inside a 0700
// folder: the rundir or the statedir) lets it create and rename its own
// files only.
//
// A change only marks the file dirty; the loop flushes it once nothing
// else is pending, after the reports to the master went out: the changes
// of one transition (Ready, Started, the master's Status) make one write,
// off the path of the report. Loop goroutine.
type stateFile struct {
	dir   *os.File
	out   *statefile.Writer
	st    statefile.State
	warn  func(string)
	dirty bool // st changed since the last flush
	bad   bool // a write failed: reported once
	// superseded: a newer writer owns the file; this one writes no more.
	superseded bool
}

func openStateFile(dir, name string, gen int64, warn func(string)) (*stateFile, error) {
	if dir == "" {
		return nil, nil
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open state folder %s: %w", dir, err)
	}
	wd, _ := os.Getwd()
	start, _ := statefile.StartTime(os.Getpid())
	st := statefile.State{Name: name, State: "STARTING", WorkerPid: os.Getpid(), WorkerStart: start, WorkingDir: wd, Generation: gen}
	f := os.NewFile(uintptr(fd), dir)
	return &stateFile{dir: f, out: statefile.NewWriter(f), warn: warn, st: st, dirty: true}, nil
}

// update changes the state and marks it for the next flush; a nil
// stateFile (no state folder) does nothing.
func (s *stateFile) update(change func(*statefile.State)) {
	if s == nil {
		return
	}
	was := s.st
	change(&s.st)
	if s.st != was { // a Status that says what the file says costs nothing
		s.dirty = true
	}
}

// pending reports whether a change waits for a flush.
func (s *stateFile) pending() bool { return s != nil && s.dirty && !s.superseded }

// flush replaces NAME.json, if it changed, unless a newer writer owns it.
func (s *stateFile) flush() {
	if !s.pending() {
		return
	}
	// A failed write (ErrBusy) is not retried: a retry loop would hold
	// the worker; the next change writes the whole state.
	s.dirty = false
	err := s.out.Write(&s.st)
	if errors.Is(err, statefile.ErrSuperseded) {
		s.superseded = true
		s.warn(fmt.Sprintf("state file: %v; this worker no longer writes it", err))
		return
	}
	if err != nil && !s.bad {
		s.bad = true
		s.warn(fmt.Sprintf("state file: %v", err))
	}
}

// rename follows the slot's new name (numprocs 1 <-> N).
func (s *stateFile) rename(name string) {
	if s == nil || name == "" || name == s.st.Name {
		return
	}
	if !s.superseded {
		statefile.Remove(s.dir, s.st.Name, s.st.Generation)
	}
	s.out.Close()
	s.st.Name, s.superseded, s.dirty = name, false, true
}

// currentUmask reads the umask without changing it.
func currentUmask() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
