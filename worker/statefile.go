package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// State is RUNDIR/workers/NAME.json: what a worker last knew of its slot,
// readable by `taskmaster state` when no master runs.
type State struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	Pid        int    `json:"pid"` // the job's; 0 when none runs
	WorkerPid  int    `json:"worker_pid"`
	UID        int    `json:"uid"`
	GID        int    `json:"gid"`
	Umask      string `json:"umask"`
	WorkingDir string `json:"workingdir"`
	StartedAt  string `json:"started_at"` // RFC 3339; "" before the first start
	ExitStatus int    `json:"exitstatus"`
	Restarts   int    `json:"restarts"`
	Error      string `json:"error"`
	UpdatedAt  string `json:"updated_at"`
}

// stateFile keeps a worker's state file current. The worker has dropped
// its privileges when it writes, so it writes through a descriptor of the
// folder opened before the drop: the folder (mode 1733, inside the 0700
// rundir) lets it create and rename its own files only. Loop goroutine.
type stateFile struct {
	dir  *os.File
	st   State
	warn func(string)
	bad  bool // a write failed: reported once
}

// StateDirMode is the workers folder's mode: writable by the workers of
// every user, each able to replace only its own files (sticky).
const StateDirMode = os.ModeSticky | 0o733

func openStateFile(dir, name string, warn func(string)) (*stateFile, error) {
	if dir == "" {
		return nil, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open state folder %s: %w", dir, err)
	}
	wd, _ := os.Getwd()
	return &stateFile{dir: f, warn: warn, st: State{Name: name, State: "STARTING", WorkerPid: os.Getpid(), WorkingDir: wd}}, nil
}

// update changes the state and writes it; a nil stateFile (no state
// folder) does nothing.
func (s *stateFile) update(change func(*State)) {
	if s == nil {
		return
	}
	change(&s.st)
	s.write()
}

// write replaces NAME.json atomically: a temporary file, then a rename.
func (s *stateFile) write() {
	if s == nil {
		return
	}
	s.st.UpdatedAt = time.Now().Format(time.RFC3339)
	b, _ := json.MarshalIndent(&s.st, "", "  ")
	if err := s.replace(s.st.Name+".json", append(b, '\n')); err != nil && !s.bad {
		s.bad = true
		s.warn(fmt.Sprintf("state file: %v", err))
	}
}

func (s *stateFile) replace(name string, b []byte) error {
	dirfd := int(s.dir.Fd())
	tmp := fmt.Sprintf(".%s.%d.tmp", name, os.Getpid())
	unix.Unlinkat(dirfd, tmp, 0)
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, werr := f.Write(b)
	f.Close()
	if werr != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("write %s: %w", tmp, werr)
	}
	if err := unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("rename %s: %w", name, err)
	}
	return nil
}

// rename follows the slot's new name (numprocs 1 <-> N).
func (s *stateFile) rename(name string) {
	if s == nil || name == "" || name == s.st.Name {
		return
	}
	unix.Unlinkat(int(s.dir.Fd()), s.st.Name+".json", 0)
	s.st.Name = name
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

// ReadStates reads every state file in dir (RUNDIR/workers), by name.
func ReadStates(dir string) ([]State, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var states []State
	for _, p := range paths {
		st, err := readState(p)
		if err != nil {
			return nil, err
		}
		states = append(states, st)
	}
	return states, nil
}

func readState(path string) (State, error) {
	var st State
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return st, fmt.Errorf("read state %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(&limitedReader{f: f, n: 64 << 10})
	if err := dec.Decode(&st); err != nil {
		return st, fmt.Errorf("read state %s: %w", path, err)
	}
	return st, nil
}

type limitedReader struct {
	f *os.File
	n int
}

func (r *limitedReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("state file too large")
	}
	p = p[:min(len(p), r.n)]
	n, err := r.f.Read(p)
	r.n -= n
	return n, err
}
