package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/safepath"
)

// rotateRetry is how long a log whose rotation failed (its folder deleted,
// renames refused) is written on before rotation is tried again.
const rotateRetry = 10 * time.Second

// notify reports to the master's event log: a problem, or (info) the end
// of one.
type notify func(msg string, info bool)

// logFile is a job's output file with supervisor's rotation: past
// maxBytes, path -> path.1 -> ... -> path.backups. Both pumps of a run, and
// the loop (Clear, Reopen, tail), use it: mu guards every field.
//
// Every open goes through safepath, before the privilege drop and after:
// no link another user controls is followed, and a FIFO or any other
// non-regular file is refused, never waited on. Renames happen inside the
// log folder as resolved at that moment (renameat), never through a path.
//
// splice(2) refuses targets opened with O_APPEND, so the file is written at
// an offset the worker keeps, re-checked with fstat before each write so an
// outside truncation (logrotate's copytruncate, `clear`) leaves no hole.
// When several processes share the file (append), it is opened O_APPEND
// and written with write(2) instead.
type logFile struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
	backups  int
	append   bool
	owner    safepath.Owner // the job's user: files created are theirs
	f        *os.File       // open for reading too when allowed, for tail
	off      int64
	reopen   bool // reopen before the next write (SIGUSR2)
	notify   notify
	writes   alarm     // failed writes: a full disk
	rotation alarm     // failed rotations: a deleted folder
	retryAt  time.Time // rotation failed: not tried again before this
	retry    time.Duration
}

// openLogFile opens path before the privilege drop: a file it creates is
// given to id's user, an existing one keeps its owner.
func openLogFile(path string, maxBytes int64, backups int, shared bool, id *identity, n notify) (*logFile, error) {
	d, err := safepath.OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return openLogFileIn(d, path, maxBytes, backups, shared, id, n)
}

// openLogFileIn is openLogFile in d, path's folder already resolved: the
// stdout and stderr of a job usually share one, walked once (issue 12).
func openLogFileIn(d *safepath.Dir, path string, maxBytes int64, backups int, shared bool, id *identity, n notify) (*logFile, error) {
	l := &logFile{path: path, maxBytes: maxBytes, backups: backups, append: shared, notify: n,
		owner: safepath.Caller, retry: rotateRetry,
		writes:   alarm{what: "write " + path, every: alarmEvery},
		rotation: alarm{what: "rotate " + path, every: alarmEvery}}
	if id != nil {
		l.owner = safepath.Owner{UID: id.uid, GID: id.gid}
	}
	var err error
	if l.f, err = l.openIn(d); err != nil {
		return nil, err
	}
	return l, l.seekEnd()
}

// open opens the file at path again, resolving its folder anew.
func (l *logFile) open() (*os.File, error) {
	d, err := safepath.OpenDir(filepath.Dir(l.path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return l.openIn(d)
}

// openIn opens (creating) the file in its folder d: for reading too, so
// tail reads through it, or write-only if the job's user may not read it.
func (l *logFile) openIn(d *safepath.Dir) (*os.File, error) {
	flags := os.O_CREATE
	if l.append {
		flags |= os.O_APPEND
	}
	name := filepath.Base(l.path)
	f, err := d.Open(name, flags|os.O_RDWR, 0o640, l.owner)
	if errors.Is(err, os.ErrPermission) {
		f, err = d.Open(name, flags|os.O_WRONLY, 0o640, l.owner)
	}
	return f, err
}

func (l *logFile) seekEnd() error {
	st, err := l.f.Stat()
	if err != nil {
		return err
	}
	l.off = st.Size()
	return nil
}

// spliceFrom moves up to want bytes from the pipe rfd into the file. It
// returns what splice returned; EAGAIN means the pipe is empty.
func (l *logFile) spliceFrom(rfd int, want int) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	want = l.prepare(want)
	if l.append {
		return 0, unix.EINVAL // the caller falls back to read/write
	}
	n, err := unix.Splice(rfd, nil, int(l.f.Fd()), &l.off, want, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
	if n > 0 {
		l.wrote()
	}
	return n, err
}

// write appends p, rotating as needed. What cannot be written (a full
// disk) is dropped and counted; see alarm.
func (l *logFile) write(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(p) > 0 {
		want := l.prepare(len(p))
		var n int
		var err error
		if l.append {
			n, err = l.f.Write(p[:want])
		} else {
			n, err = l.f.WriteAt(p[:want], l.off)
		}
		l.off += int64(n)
		p = p[n:]
		if err != nil {
			if pe, ok := errors.AsType[*os.PathError](err); ok {
				err = pe.Err // the alarm names the file
			}
			l.report(l.writes.fail(time.Now(), err, int64(len(p))), false)
			return
		}
	}
	l.wrote()
}

// wrote notes a write that worked. mu held.
func (l *logFile) wrote() {
	if l.writes.failing {
		l.report(l.writes.ok(time.Now()), true)
	}
}

// prepare reopens or rotates as due and returns how much may be written
// before the next rotation. mu held.
func (l *logFile) prepare(want int) int {
	if l.reopen {
		l.reopen = false
		if f, err := l.open(); err != nil {
			l.report(fmt.Sprintf("reopen %s: %v", l.path, err), false)
		} else {
			l.f.Close()
			l.f = f
		}
		l.seekEnd()
	} else if l.append {
		l.followSiblings()
	} else if st, err := l.f.Stat(); err == nil && st.Size() < l.off {
		l.off = st.Size() // truncated behind our back
	}
	if l.maxBytes <= 0 {
		return want
	}
	if l.off < l.maxBytes {
		return int(min(int64(want), l.maxBytes-l.off))
	}
	now := time.Now()
	if now.Before(l.retryAt) {
		return want // rotation failed lately: write on, try later
	}
	if err := l.rotate(); err != nil {
		l.retryAt = now.Add(l.retry)
		if msg := l.rotation.fail(now, err, 0); msg != "" {
			l.report(fmt.Sprintf("%s; writing on to the same file, retrying every %s", msg, l.retry), false)
		}
		return want
	}
	l.retryAt = time.Time{}
	l.report(l.rotation.ok(now), true)
	return int(min(int64(want), l.maxBytes-l.off))
}

// followSiblings keeps a shared file (numprocs > 1) in step with the other
// processes writing it: if one of them rotated it, write to the new file;
// decide on rotation by the file's real size, not by what this one wrote.
// mu held.
func (l *logFile) followSiblings() {
	cur, err := l.f.Stat()
	if err != nil {
		return
	}
	if at, err := os.Stat(l.path); err == nil && !os.SameFile(cur, at) {
		if f, err := l.open(); err == nil {
			l.f.Close()
			l.f = f
			cur = at
		}
	}
	l.off = cur.Size()
}

// rotate shifts the backups and starts a new file. With no backups the
// file is truncated. A live file no longer at path (its folder deleted and
// made again) is not renamed: the new file starts at path. mu held.
func (l *logFile) rotate() error {
	if l.backups == 0 {
		if err := l.f.Truncate(0); err != nil {
			return err
		}
		l.off = 0
		return nil
	}
	d, err := safepath.OpenDir(filepath.Dir(l.path))
	if err != nil {
		return err
	}
	defer d.Close()
	name := filepath.Base(l.path)
	for i := l.backups; i >= 1; i-- {
		from := name
		if i > 1 {
			from = fmt.Sprintf("%s.%d", name, i-1)
		}
		err := d.Rename(from, fmt.Sprintf("%s.%d", name, i))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	f, err := l.openIn(d)
	if err != nil {
		return err
	}
	l.f.Close()
	l.f, l.off = f, 0
	return nil
}

// Clear truncates the file, through the worker's own descriptor.
func (l *logFile) Clear() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off = 0
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("clear %s: %w", l.path, err)
	}
	return nil
}

// Reopen makes the next write go to a file at path again.
func (l *logFile) Reopen() {
	l.mu.Lock()
	l.reopen = true
	l.mu.Unlock()
}

// tail reads up to max bytes of the live file, through the worker's own
// descriptor, from off (negative: that many bytes before the end). A file
// other than file (rotated, reopened; 0: any) or shorter than off (cleared,
// truncated) is read from its start.
func (l *logFile) tail(off int64, max int, file uint64) *ipc.TailData {
	l.mu.Lock()
	defer l.mu.Unlock()
	var st unix.Stat_t
	if err := unix.Fstat(int(l.f.Fd()), &st); err != nil {
		return &ipc.TailData{}
	}
	d := &ipc.TailData{File: st.Ino, Next: st.Size}
	switch {
	case off < 0:
		off = max64(0, st.Size+off)
	case (file != 0 && file != st.Ino) || off > st.Size:
		off = 0
	}
	buf := make([]byte, min(int64(max), st.Size-off))
	n, _ := l.f.ReadAt(buf, off)
	d.Data, d.Offset = buf[:n], off
	return d
}

func (l *logFile) report(msg string, info bool) {
	if msg != "" && l.notify != nil {
		l.notify(msg, info)
	}
}
