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
// under the name's lock, so two writers of one name cannot interleave. It
// is a Writer used once: the master's records of slots with no worker.
func Write(dir *os.File, st *State) error {
	w := NewWriter(dir)
	defer w.Close()
	return w.Write(st)
}

// Writer writes one slot's file again and again (a worker's life) at the
// cost of one flock, one fstatat and the replacement itself: it keeps the
// name's lock file open between writes, and it keeps the file it last
// renamed in place open, so a later write knows whether the file there is
// still its own (same inode: an inode held open cannot be freed, so its
// number cannot have been reused) and needs no read for the generation
// check. Not safe for concurrent use.
type Writer struct {
	dir  *os.File
	name string // the name lockFD and lastFD belong to
	// lockFD is .NAME.lock, opened once; -1 until the first write.
	lockFD int
	// lastFD is the file this writer last renamed to NAME.json; -1 if
	// none.
	lastFD  int
	lastDev uint64
	lastIno uint64
	buf     bytes.Buffer
}

// NewWriter is a Writer of files in dir (the state folder, opened by the
// caller, which keeps it open while the Writer is used).
func NewWriter(dir *os.File) *Writer { return &Writer{dir: dir, lockFD: -1, lastFD: -1} }

// Close releases the descriptors the Writer holds; it may write again.
func (w *Writer) Close() {
	for _, fd := range []*int{&w.lockFD, &w.lastFD} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// Write is the package's Write for st.Name through this Writer.
func (w *Writer) Write(st *State) error {
	if st.Name != w.name {
		w.Close() // another slot's lock and file
		w.name = st.Name
	}
	if err := w.lock(); err != nil {
		return err
	}
	defer unix.Flock(w.lockFD, unix.LOCK_UN)
	file := st.Name + ".json"
	if !w.ownsFile(file) {
		if cur, err := readAt(w.dir, file); err == nil && cur.Generation > st.Generation {
			return fmt.Errorf("%s: %w (generation %d, ours %d)", file, ErrSuperseded, cur.Generation, st.Generation)
		}
	}
	st.UpdatedAt = time.Now().Format(time.RFC3339)
	w.buf.Reset()
	// Encode appends a newline; compact, not indented: `taskmaster state`
	// is the reader for people.
	json.NewEncoder(&w.buf).Encode(st)
	fd, err := replaceAt(w.dir, file, w.buf.Bytes())
	if err != nil {
		return err
	}
	if w.lastFD >= 0 {
		unix.Close(w.lastFD)
	}
	w.lastFD = fd
	var fst unix.Stat_t
	if unix.Fstat(fd, &fst) == nil {
		w.lastDev, w.lastIno = fst.Dev, fst.Ino
	} else {
		w.lastDev, w.lastIno = 0, 0
	}
	return nil
}

// ownsFile reports whether dir/file is the file this Writer last renamed
// there: then no one replaced it since, and no higher generation can be
// in it.
func (w *Writer) ownsFile(file string) bool {
	if w.lastFD < 0 || w.lastIno == 0 {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(w.dir.Fd()), file, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false
	}
	return st.Dev == w.lastDev && st.Ino == w.lastIno
}

// lock takes the exclusive flock(2) of .NAME.lock, opening it on first use.
func (w *Writer) lock() error {
	if w.lockFD < 0 {
		fd, err := openLock(w.dir, w.name)
		if err != nil {
			return err
		}
		w.lockFD = fd
	}
	return flockWait(w.lockFD, "."+w.name+".lock")
}

// Remove removes dir/NAME.json if no writer newer than gen owns it.
func Remove(dir *os.File, name string, gen int64) error {
	fd, err := openLock(dir, name)
	if err != nil {
		return err
	}
	defer unix.Close(fd) // closing releases the lock
	if err := flockWait(fd, "."+name+".lock"); err != nil {
		return err
	}
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

// openLock opens .NAME.lock in dir: one lock per name, so writers of
// different slots never wait on each other. The file is opened read-only
// (flock needs no more), so a worker of any user can lock a file another
// created; it is never followed if a symlink, never waited on if a FIFO.
func openLock(dir *os.File, name string) (int, error) {
	lock := "." + name + ".lock"
	fd, err := unix.Openat(int(dir.Fd()), lock, unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return -1, fmt.Errorf("lock %s: %w", lock, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, fmt.Errorf("lock %s: not a regular file", lock)
	}
	return fd, nil
}

// flockWait takes the exclusive flock(2) of fd, waiting at most lockWait.
func flockWait(fd int, lock string) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("lock %s: %w", lock, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lock %s: %w", lock, ErrBusy)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// replaceAt writes name atomically: a temporary file, then a rename. It
// returns the new file's descriptor (write-only), for the caller to close.
func replaceAt(dir *os.File, name string, b []byte) (int, error) {
	dirfd := int(dir.Fd())
	tmp := fmt.Sprintf(".%s.%d.tmp", name, os.Getpid())
	unix.Unlinkat(dirfd, tmp, 0)
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return -1, fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, werr := writeAll(fd, b); werr != nil {
		unix.Close(fd)
		unix.Unlinkat(dirfd, tmp, 0)
		return -1, fmt.Errorf("write %s: %w", tmp, werr)
	}
	if err := unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
		unix.Close(fd)
		unix.Unlinkat(dirfd, tmp, 0)
		return -1, fmt.Errorf("rename %s: %w", name, err)
	}
	return fd, nil
}

func writeAll(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Write(fd, b[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
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
