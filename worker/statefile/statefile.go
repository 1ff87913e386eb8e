package statefile

import (
	"bytes"
	"cmp"
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

// Writer writes one slot's file again and again (a worker's life). In
// steady state a write allocates no inode and takes the folder's lock
// once: the Writer keeps a spare file, .NAME.json.PID.tmp, rewrites it
// through its descriptor and swaps it with NAME.json in one
// renameat2(RENAME_EXCHANGE); the file that was NAME.json is the next
// spare. It keeps the name's lock file open between writes, and the file
// now in place as NAME.json, so a later write knows whether the file there
// is still its own (same inode: an inode held open cannot be freed, so its
// number cannot have been reused) and needs no read for the generation
// check. Not safe for concurrent use.
//
// A spare is rewritten in place only under a write lease (fcntl
// F_SETLEASE), which the kernel grants only while no one else has the
// file open and which makes a later open wait until the rewrite is done:
// a reader that opened NAME.json just before it was swapped out never
// sees it change under it. Without the lease (a reader holds it, or the
// file system has no leases) the spare is dropped and a new one created.
type Writer struct {
	dir  *os.File
	name string // the name lockFD, cur and spare belong to
	// lockFD is .NAME.lock, opened once; -1 until the first write.
	lockFD int
	// cur is the file this writer last put in place as NAME.json.
	cur held
	// spare is this writer's .NAME.json.PID.tmp, ready to be rewritten.
	spare held
	// noExchange: the file system refused RENAME_EXCHANGE; rename.
	noExchange bool
	buf        bytes.Buffer
}

// held is a file the Writer keeps open; fd -1 when none.
type held struct {
	fd       int
	dev, ino uint64
	size     int // what was written to it
}

var none = held{fd: -1}

func (h *held) close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
	}
	*h = none
}

// is reports whether dir/name is this very file.
func (h *held) is(dir *os.File, name string) bool {
	if h.fd < 0 {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false
	}
	return st.Dev == h.dev && st.Ino == h.ino
}

// NewWriter is a Writer of files in dir (the state folder, opened by the
// caller, which keeps it open while the Writer is used).
func NewWriter(dir *os.File) *Writer {
	return &Writer{dir: dir, lockFD: -1, cur: none, spare: none}
}

// Close releases the descriptors the Writer holds and removes its spare;
// it may write again.
func (w *Writer) Close() {
	if w.spare.fd >= 0 {
		if tmp := w.tmpName(); w.spare.is(w.dir, tmp) {
			unix.Unlinkat(int(w.dir.Fd()), tmp, 0)
		}
	}
	w.spare.close()
	w.cur.close()
	if w.lockFD >= 0 {
		unix.Close(w.lockFD)
		w.lockFD = -1
	}
}

// tmpName is this process's spare for w.name: per process, so the
// spares of two workers of one slot (an old one ending, a new one
// starting) never collide.
func (w *Writer) tmpName() string { return spareName(w.name, os.Getpid()) }

func spareName(name string, pid int) string { return fmt.Sprintf(".%s.json.%d.tmp", name, pid) }

// Write is the package's Write for st.Name through this Writer.
func (w *Writer) Write(st *State) error { return w.write(st, false) }

// WriteLast is Write for the Writer's last write (then Close): it renames
// its spare over NAME.json rather than exchange them, which leaves no spare
// to remove, one operation on the folder instead of two.
func (w *Writer) WriteLast(st *State) error { return w.write(st, true) }

func (w *Writer) write(st *State, last bool) error {
	if st.Name != w.name {
		w.Close() // another slot's lock and files
		w.name = st.Name
	}
	if err := w.lock(); err != nil {
		return err
	}
	defer unix.Flock(w.lockFD, unix.LOCK_UN)
	file := st.Name + ".json"
	owned := w.cur.is(w.dir, file)
	if !owned {
		cur, err := readAt(w.dir, file)
		if err == nil && cur.Generation > st.Generation {
			return fmt.Errorf("%s: %w (generation %d, ours %d)", file, ErrSuperseded, cur.Generation, st.Generation)
		}
		if err == nil && cur.WorkerPid > 0 {
			removeDeadSpare(w.dir, st.Name, &cur)
		}
	}
	st.UpdatedAt = time.Now().Format(time.RFC3339)
	w.buf.Reset()
	// Encode appends a newline; compact, not indented: `taskmaster state`
	// is the reader for people.
	json.NewEncoder(&w.buf).Encode(st)
	tmp := w.tmpName()
	if err := w.fill(tmp, w.buf.Bytes()); err != nil {
		return err
	}
	dirfd := int(w.dir.Fd())
	// The exchange only swaps out the file this writer put there: the one
	// that comes back is its own, fit to be the next spare. Another
	// writer's file is replaced by a rename, which frees it.
	if owned && !last && !w.noExchange {
		err := unix.Renameat2(dirfd, tmp, dirfd, file, unix.RENAME_EXCHANGE)
		if err == nil {
			w.cur, w.spare = w.spare, w.cur
			return nil
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
			w.noExchange = true
		}
		// Else NAME.json went away (its owner's job removed it): a
		// rename puts it back.
	}
	if err := unix.Renameat(dirfd, tmp, dirfd, file); err != nil {
		w.dropSpare(tmp)
		return fmt.Errorf("rename %s: %w", file, err)
	}
	w.cur.close()
	w.cur, w.spare = w.spare, none
	return nil
}

// fill makes tmp the spare holding b: the spare rewritten in place when
// that is safe, else a new file.
func (w *Writer) fill(tmp string, b []byte) error {
	if w.spare.fd >= 0 {
		if w.rewrite(tmp, b) {
			return nil
		}
		w.dropSpare(tmp)
	}
	dirfd := int(w.dir.Fd())
	flags := unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dirfd, tmp, flags, 0o644)
	if errors.Is(err, unix.EEXIST) {
		// A spare left by a dead worker whose pid this one reuses. Only
		// then is the name unlinked: not before every create.
		unix.Unlinkat(dirfd, tmp, 0)
		fd, err = unix.Openat(dirfd, tmp, flags, 0o644)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	var fst unix.Stat_t
	if _, err := writeAll(fd, b); err != nil || unix.Fstat(fd, &fst) != nil {
		unix.Close(fd)
		unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("write %s: %w", tmp, cmp.Or(err, error(unix.EIO)))
	}
	w.spare = held{fd: fd, dev: fst.Dev, ino: fst.Ino, size: len(b)}
	return nil
}

// rewrite writes b over the spare, in place, under a write lease; false
// if it cannot (the lease is refused: someone has the file open, or the
// file system has no leases; tmp is no longer the spare).
func (w *Writer) rewrite(tmp string, b []byte) bool {
	fd := w.spare.fd
	if !w.spare.is(w.dir, tmp) {
		return false
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_WRLCK); err != nil {
		return false
	}
	defer unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
	// Never shrink the file: a truncation costs a journal's orphan-list
	// update on ext4 (one lock for the whole file system). Spaces before
	// the final newline pad it instead; JSON ignores them.
	if pad := w.spare.size - len(b); pad > 0 {
		w.buf.Truncate(w.buf.Len() - 1)
		w.buf.Write(bytes.Repeat([]byte{' '}, pad))
		w.buf.WriteByte('\n')
		b = w.buf.Bytes()
	}
	for n := 0; n < len(b); {
		m, err := unix.Pwrite(fd, b[n:], int64(n))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false
		}
		n += m
	}
	w.spare.size = len(b)
	return true
}

// dropSpare forgets the spare, unlinking tmp if it is still the spare.
func (w *Writer) dropSpare(tmp string) {
	if w.spare.is(w.dir, tmp) {
		unix.Unlinkat(int(w.dir.Fd()), tmp, 0)
	}
	w.spare.close()
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
	// No file, nothing to remove: a lookup, not the lock (whose file
	// would be created) and an unlink, which both lock the folder.
	var fst unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), name+".json", &fst, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return nil
	}
	fd, err := openLock(dir, name)
	if err != nil {
		return err
	}
	defer unix.Close(fd) // closing releases the lock
	if err := flockWait(fd, "."+name+".lock"); err != nil {
		return err
	}
	file := name + ".json"
	cur, err := readAt(dir, file)
	if err == nil && cur.Generation > gen {
		return fmt.Errorf("%s: %w", file, ErrSuperseded)
	}
	if err == nil && cur.WorkerPid > 0 {
		removeDeadSpare(dir, name, &cur)
	}
	if err := unix.Unlinkat(int(dir.Fd()), file, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s: %w", file, err)
	}
	return nil
}

// removeDeadSpare removes the spare of the worker that wrote st if it
// died without removing it (SIGKILL); the file it wrote is being replaced
// or removed. Readers skip it (a dot file) and a
// new worker's pid differs; this only keeps dead spares from piling up.
// The cheap lookup comes first: a worker that exited removed its own.
func removeDeadSpare(dir *os.File, name string, st *State) {
	if st.WorkerPid == os.Getpid() {
		return
	}
	spare := spareName(name, st.WorkerPid)
	var fst unix.Stat_t
	if unix.Fstatat(int(dir.Fd()), spare, &fst, unix.AT_SYMLINK_NOFOLLOW) != nil || st.WorkerAlive() {
		return
	}
	unix.Unlinkat(int(dir.Fd()), spare, 0)
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
