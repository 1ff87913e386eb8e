package worker

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// logFile is a job's output file with supervisor's rotation: past
// maxBytes, path -> path.1 -> ... -> path.backups. Both pumps of a run, and
// the loop (Clear, Reopen), use it: mu guards every field.
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
	f        *os.File
	off      int64
	reopen   bool // reopen before the next write (SIGUSR2)
	warn     func(string)
	failed   error // rotation failed once: reported, then rotation stops
}

// openLogFile opens path before the privilege drop: a file it creates is
// given to id's user, an existing one keeps its owner.
func openLogFile(path string, maxBytes int64, backups int, shared bool, id *identity, warn func(string)) (*logFile, error) {
	l := &logFile{path: path, maxBytes: maxBytes, backups: backups, append: shared, warn: warn}
	f, err := l.open(id)
	if err != nil {
		return nil, err
	}
	l.f = f
	return l, l.seekEnd()
}

func (l *logFile) flags() int {
	flags := os.O_WRONLY | syscall.O_NOFOLLOW
	if l.append {
		flags |= os.O_APPEND
	}
	return flags
}

func (l *logFile) open(id *identity) (*os.File, error) {
	f, err := os.OpenFile(l.path, l.flags()|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, os.ErrExist) {
		return os.OpenFile(l.path, l.flags(), 0)
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
	return n, err
}

// write appends p, rotating as needed.
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
			l.report(fmt.Errorf("write %s: %w", l.path, err))
			return
		}
	}
}

// prepare reopens or rotates as due and returns how much may be written
// before the next rotation. mu held.
func (l *logFile) prepare(want int) int {
	if l.reopen {
		l.reopen = false
		if f, err := l.open(nil); err != nil {
			l.report(fmt.Errorf("reopen %s: %w", l.path, err))
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
	if l.maxBytes <= 0 || l.failed != nil {
		return want
	}
	if l.off >= l.maxBytes {
		if err := l.rotate(); err != nil {
			l.failed = err
			l.report(fmt.Errorf("rotate %s: %w; rotation stops", l.path, err))
			return want
		}
	}
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
		if f, err := l.open(nil); err == nil {
			l.f.Close()
			l.f = f
			cur = at
		}
	}
	l.off = cur.Size()
}

// rotate shifts the backups and starts a new file. With no backups the
// file is truncated. mu held.
func (l *logFile) rotate() error {
	if l.backups == 0 {
		if err := l.f.Truncate(0); err != nil {
			return err
		}
		l.off = 0
		return nil
	}
	for i := l.backups - 1; i >= 1; i-- {
		err := os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return err
	}
	f, err := l.open(nil)
	if err != nil {
		return err
	}
	l.f.Close()
	l.f, l.off = f, 0
	return nil
}

// Clear truncates the file.
func (l *logFile) Clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.f.Truncate(0); err != nil {
		l.report(fmt.Errorf("clear %s: %w", l.path, err))
	}
	l.off = 0
}

// Reopen makes the next write go to a file at path again.
func (l *logFile) Reopen() {
	l.mu.Lock()
	l.reopen = true
	l.mu.Unlock()
}

func (l *logFile) report(err error) {
	if l.warn != nil {
		l.warn(err.Error())
	}
}
