package worker

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// stateFile keeps a worker's state file current. The worker has dropped
// its privileges when it writes, so it writes through a descriptor of the
// folder opened before the drop: the folder (mode 1733, inside a 0700
// folder: the rundir or the statedir) lets it create and rename its own
// files only.
//
// A change only marks the file dirty; once the loop is idle, after the
// reports to the master went out, a settle timer (settleDelay) is armed,
// and the file is written when it fires: the changes of one transition
// (Ready, Started, the master's Status a round trip later; STOPPING and
// STOPPED of a quick stop) make one write, off the path of the report.
// The last write, as the worker ends, is not delayed (finish). Loop
// goroutine.
type stateFile struct {
	dir   *os.File
	out   *statefile.Writer
	st    statefile.State
	warn  func(string)
	dirty bool // st changed since the last flush
	bad   bool // a write failed: reported once
	// timer fires settleDelay after the loop first went idle with a
	// change pending; armed only then, so an idle worker never wakes.
	timer *time.Timer
	armed bool
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

// settleDelay is how long a change waits for the rest of its transition:
// the master's RUNNING one round trip after a start with starttime 0, the
// STOPPED after the STOPPING of a quick stop. That round trip is tens of
// milliseconds while hundreds of workers start at once (300 programs on
// 2 loaded cores: with 40 ms, 10-40% of the workers still wrote twice at
// start; with 100 ms none did). The delay bounds how stale the file is
// while a master runs, when the master is the authority; the file is for
// when none runs, and a worker that loses its master writes at once.
const settleDelay = 50 * time.Millisecond

// due is the channel on which the loop learns that the pending change
// is to be written; nil when nothing is pending, or while the loop is busy
// (isIdle false) and no timer runs yet.
func (s *stateFile) due(isIdle func() bool) <-chan time.Time {
	if !s.pending() {
		s.disarm()
		return nil
	}
	if !s.armed {
		if !isIdle() {
			return nil
		}
		if s.timer == nil {
			s.timer = time.NewTimer(settleDelay)
		} else {
			s.timer.Reset(settleDelay)
		}
		s.armed = true
	}
	return s.timer.C
}

// fired writes the pending change once the settle timer fired.
func (s *stateFile) fired() {
	s.armed = false
	s.flush()
}

func (s *stateFile) disarm() {
	if s != nil && s.armed {
		s.timer.Stop()
		s.armed = false
	}
}

// finish writes the last state at once and removes the Writer's spare:
// the worker is ending.
func (s *stateFile) finish() {
	if s == nil {
		return
	}
	s.disarm()
	s.write(s.out.WriteLast)
	s.out.Close()
}

// pending reports whether a change waits for a flush.
func (s *stateFile) pending() bool { return s != nil && s.dirty && !s.superseded }

// flush replaces NAME.json, if it changed, unless a newer writer owns it.
func (s *stateFile) flush() { s.write(s.out.Write) }

// write is flush through out (Write, or WriteLast).
func (s *stateFile) write(out func(*statefile.State) error) {
	if !s.pending() {
		return
	}
	// A failed write (ErrBusy) is not retried: a retry loop would hold
	// the worker; the next change writes the whole state.
	s.dirty = false
	err := out(&s.st)
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
