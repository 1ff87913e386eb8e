package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// State is RUNDIR/workers/NAME.json: what a worker (or the master, for a
// slot with no worker) last knew of its slot, readable by `taskmaster
// state` when no master runs.
type State struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	Pid        int    `json:"pid"`        // the job's; 0 when none runs
	WorkerPid  int    `json:"worker_pid"` // 0: written by the master, no worker
	UID        int    `json:"uid"`
	GID        int    `json:"gid"`
	Umask      string `json:"umask"`
	WorkingDir string `json:"workingdir"`
	StartedAt  string `json:"started_at"` // RFC 3339; "" before the first start
	ExitStatus int    `json:"exitstatus"`
	Restarts   int    `json:"restarts"`
	Error      string `json:"error"`
	UpdatedAt  string `json:"updated_at"`
	// Generation orders the file's writers (ipc.Spec.Generation): a
	// writer never replaces a file of a higher generation.
	Generation int64 `json:"generation"`
	// WorkerStart is the worker's start time in clock ticks since boot
	// (proc(5), stat field 22): with WorkerPid it names the worker even
	// once its pid is reused.
	WorkerStart uint64 `json:"worker_start"`
}

// maxFile bounds what is read of one state file.
const maxFile = 64 << 10

// DirMode is the workers folder's mode: writable by the workers of
// every user, each able to replace only its own files (sticky).
const DirMode = os.ModeSticky | 0o733

// Write replaces dir/NAME.json with st (UpdatedAt set now) in one
// rename, unless the file there has a higher generation: then it returns
// ErrSuperseded and leaves the file alone. The check and the rename happen
// under the name's lock, so two writers of one name cannot interleave.
func Write(dir *os.File, st *State) error {
	unlock, err := lock(dir, st.Name)
	if err != nil {
		return err
	}
	defer unlock()
	file := st.Name + ".json"
	if cur, err := readAt(dir, file); err == nil && cur.Generation > st.Generation {
		return fmt.Errorf("%s: %w (generation %d, ours %d)", file, ErrSuperseded, cur.Generation, st.Generation)
	}
	st.UpdatedAt = time.Now().Format(time.RFC3339)
	b, _ := json.MarshalIndent(st, "", "  ")
	return replaceAt(dir, file, append(b, '\n'))
}

// Remove removes dir/NAME.json if no writer newer than gen owns it.
func Remove(dir *os.File, name string, gen int64) error {
	unlock, err := lock(dir, name)
	if err != nil {
		return err
	}
	defer unlock()
	file := name + ".json"
	if cur, err := readAt(dir, file); err == nil && cur.Generation > gen {
		return fmt.Errorf("%s: %w", file, ErrSuperseded)
	}
	if err := unix.Unlinkat(int(dir.Fd()), file, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s: %w", file, err)
	}
	return nil
}

// lockWait bounds the wait for a name's lock. Holders keep it for one
// small write; a writer that cannot get it skips that write rather than
// stall its job's supervision.
const lockWait = 250 * time.Millisecond

// lockState takes the exclusive flock(2) of .NAME.lock in dir: one lock
// per name, so writers of different slots never wait on each other. The
// file is opened read-only (flock needs no more), so a worker of any user
// can lock a file another created; it is never followed if a symlink,
// never waited on if a FIFO.
func lock(dir *os.File, name string) (unlock func(), err error) {
	lock := "." + name + ".lock"
	fd, err := unix.Openat(int(dir.Fd()), lock, unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: not a regular file", lock)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Close(fd) }, nil // closing releases it
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			unix.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", lock, err)
		}
		if time.Now().After(deadline) {
			unix.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", lock, ErrBusy)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// replaceAt writes name atomically: a temporary file, then a rename.
func replaceAt(dir *os.File, name string, b []byte) error {
	dirfd := int(dir.Fd())
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

// StartTime is pid's start time in clock ticks since boot (proc(5), stat
// field 22).
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields start
	// after the last ')'. f[0] is field 3.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// WorkerAlive reports whether the worker that wrote st still runs: its
// pid is a tm-worker started when the file says (not a process that
// reused the pid). Its argv's name is not compared: a slot renamed
// (numprocs 1 <-> N) keeps its worker, whose argv says the old name.
func (st *State) WorkerAlive() bool {
	if st.WorkerPid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.WorkerPid))
	if err != nil || !bytes.HasPrefix(b, []byte("tm-worker\x00")) {
		return false
	}
	start, err := StartTime(st.WorkerPid)
	return err == nil && start == st.WorkerStart
}

// ReadDir reads every state file in dir (RUNDIR/workers), by name. A
// file that is not a regular file, or does not decode, is skipped and
// reported in bad; err is for the folder itself.
func ReadDir(dir string) (states []State, bad []error, err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open state folder %s: %w", dir, err)
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	return ReadAt(f)
}

// ReadAt is ReadDir on an open folder. Every file is opened in it
// with O_NOFOLLOW and O_NONBLOCK (a symlink or a FIFO planted there is
// refused, never followed or waited on) and read up to 64 KiB.
func ReadAt(dir *os.File) (states []State, bad []error, err error) {
	if _, err := dir.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("read state folder %s: %w", dir.Name(), err)
	}
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, nil, fmt.Errorf("read state folder %s: %w", dir.Name(), err)
	}
	for _, n := range sortedJSON(names) {
		st, err := readAt(dir, n)
		if err != nil {
			bad = append(bad, fmt.Errorf("read state %s: %w", filepath.Join(dir.Name(), n), err))
			continue
		}
		states = append(states, st)
	}
	return states, bad, nil
}

func sortedJSON(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func readAt(dir *os.File, name string) (State, error) {
	var st State
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var fst unix.Stat_t
	if err := unix.Fstat(fd, &fst); err != nil {
		return st, err
	}
	if fst.Mode&unix.S_IFMT != unix.S_IFREG {
		return st, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return st, err
	}
	if len(b) > maxFile {
		return st, errors.New("state file too large")
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, err
	}
	return st, nil
}

// DirName is the state folder's name inside the rundir.
const DirName = "workers"

// Dir is the state folder of rundir.
func Dir(rundir string) string { return filepath.Join(rundir, DirName) }
