package master

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/safepath"
)

// ReopenLogs reopens the event log and every job's log files (SIGUSR2,
// for logrotate's postrotate).
func (s *Supervisor) ReopenLogs() {
	if err := s.log.Reopen(); err != nil {
		s.log.Logf("ERROR", "reopen: %v", err)
	}
	s.do(func() {
		s.log.Logf("INFO", "reopening log files")
		for _, p := range s.order {
			if p.w != nil {
				p.w.Reopen()
			}
		}
	})
}

// Streams a process has.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// LogRead asks for part of a log. Offset >= 0 is a byte offset in the
// file File names (0: whichever is there now); a File that is not the
// current one (rotated) or an Offset past the end (truncated) reads from
// the start. Offset < 0 reads the last -Offset bytes. Length bounds the
// answer (<= 0 or more than MaxLogRead: MaxLogRead).
type LogRead struct {
	Offset int64
	Length int64
	File   uint64
}

// LogChunk is a part of a log: Data read at Offset of the file File (an
// inode number), and Next, the file's size when read. Offset+len(Data) <
// Next means more is waiting.
type LogChunk struct {
	Data   []byte
	Offset int64
	Next   int64
	File   uint64
}

// MaxLogRead is the most one read returns: one answer (ipc.TailData)
// fits a packet.
const MaxLogRead = 32 << 10

// Tail reads part of one process's stream (Stdout or Stderr): through its
// worker, which holds the log file open (or keeps a discarded stream's
// recent output), or from the log file when it has none. Errors:
// ErrNoSuchProcess, ErrBadArguments (a NAME of several processes, a
// stream that is none), ErrNoOutput (discarded and no worker), ErrNoLog
// (the file is not there or not readable: errors.Is(err, os.ErrNotExist)
// says which).
func (s *Supervisor) Tail(name, stream string, r LogRead) (LogChunk, error) {
	if stream != Stdout && stream != Stderr {
		return LogChunk{}, fail(ErrBadArguments, "no stream "+stream)
	}
	p, path, owner, err := s.logOf(name, stream)
	if err != nil {
		return LogChunk{}, err
	}
	return chunk(s.readOutput(p, stream, path, owner, r))
}

// logOf resolves one process's stream (Stdout or Stderr) to the process,
// its log file ("" for none) and the user that file belongs to.
func (s *Supervisor) logOf(name, stream string) (p *Process, path string, owner safepath.Owner, err error) {
	if lerr := s.onLoop(func() {
		if p, err = s.resolveOne("tail", name); err != nil {
			return
		}
		path, owner = p.Program.Stdout, jobOwner(p)
		if stream == Stderr {
			path = p.Program.Stderr
		}
	}); lerr != nil {
		return nil, "", owner, lerr
	}
	return p, path, owner, err
}

// MainTail reads part of the event log, as Tail does.
func (s *Supervisor) MainTail(r LogRead) (LogChunk, error) {
	return chunk(readLog(s.log.Path(), safepath.Caller, r))
}

func chunk(d *ipc.TailData, err error) (LogChunk, error) {
	if err != nil {
		if _, ok := errors.AsType[*Error](err); !ok {
			err = &Error{Kind: ErrNoLog, Detail: err.Error(), Cause: err}
		}
		return LogChunk{}, err
	}
	return LogChunk{Data: d.Data, Offset: d.Offset, Next: d.Next, File: d.File}, nil
}

// jobOwner is the user p's files belong to. Loop only.
func jobOwner(p *Process) safepath.Owner {
	return safepath.Owner{UID: p.Program.UID, GID: p.Program.GID}
}

func errNoWorker(name string) error {
	return fail(ErrNoOutput, name+" has no running worker")
}

// readOutput reads p's stream through its worker, which holds the log
// file open (or keeps a discarded stream's output); with no worker, from
// the log file, resolved as safepath allows.
func (s *Supervisor) readOutput(p *Process, stream, path string, owner safepath.Owner, r LogRead) (*ipc.TailData, error) {
	if d := s.askTail(p, ipc.Tail{Stream: stream, Offset: r.Offset, Max: int(readMax(r)), File: r.File}); d != nil {
		return d, nil
	}
	if path == "" {
		return nil, errNoWorker(p.Name)
	}
	return readLog(path, owner, r)
}

// readMax is the bytes r may return.
func readMax(r LogRead) int64 {
	if r.Length <= 0 || r.Length > MaxLogRead {
		return MaxLogRead
	}
	return r.Length
}

// readLog reads a log file as the worker's tail does (see ipc.Tail),
// opened read-only through safepath: nothing another user controls is
// followed, and only a regular file is read.
func readLog(path string, owner safepath.Owner, r LogRead) (*ipc.TailData, error) {
	off, file := r.Offset, r.File
	f, err := safepath.Open(path, os.O_RDONLY, 0, owner)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ino, size := st.Sys().(*syscall.Stat_t).Ino, st.Size()
	switch {
	case off < 0:
		off = max(0, size+off)
	case (file != 0 && file != ino) || off > size:
		off = 0 // rotated or truncated: from its start
	}
	buf := make([]byte, min(readMax(r), size-off))
	n, _ := f.ReadAt(buf, off)
	return &ipc.TailData{Data: buf[:n], Offset: off, Next: size, File: ino}, nil
}

// askTail asks p's worker for output; nil if p has no worker or it did
// not answer.
func (s *Supervisor) askTail(p *Process, t ipc.Tail) *ipc.TailData {
	reply := make(chan *ipc.TailData, 1)
	ok := s.do(func() {
		if p.w == nil {
			reply <- nil
			return
		}
		p.w.Tail(t, func(d *ipc.TailData) { reply <- d })
	})
	if !ok {
		return nil
	}
	select {
	case d := <-reply:
		return d
	case <-time.After(5 * time.Second):
		return nil
	}
}

// clearWait bounds the wait for a worker's answer to Clear.
const clearWait = 5 * time.Second

// Clear empties the log files and kept output of the processes NAMEs
// match. A worker's error is ErrFailed with its text; ErrNoAnswer when it
// did not answer in time.
func (s *Supervisor) Clear(names []string) ([]Result, error) {
	return s.each(context.Background(), OpClear, names, func(*Process) bool { return true }, func(p *Process, done func(error)) {
		if p.w == nil {
			done(clearFiles(p))
			return
		}
		// The worker truncates through its own descriptors: the path may
		// lead elsewhere by now (the job can change its folders).
		answered := false
		answer := func(err error) { // loop only
			if !answered {
				answered = true
				done(err)
			}
		}
		timer := time.AfterFunc(clearWait, func() {
			s.Post(func() { answer(fail(ErrNoAnswer, "")) })
		})
		p.w.Clear(func(c *ipc.Cleared) {
			timer.Stop()
			switch {
			case c == nil: // the worker went away first
				answer(clearFiles(p))
			case c.Error != "":
				answer(fail(ErrFailed, c.Error))
			default:
				answer(nil)
			}
		})
	})
}

// clearFiles truncates p's log files when no worker holds them, each
// opened write-only through safepath: never created, never truncated by
// path. Loop only.
func clearFiles(p *Process) error {
	for _, path := range []string{p.Program.Stdout, p.Program.Stderr} {
		if path == "" {
			continue
		}
		f, err := safepath.Open(path, os.O_WRONLY, 0, jobOwner(p))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil {
			err = f.Truncate(0)
			f.Close()
		}
		if err != nil {
			return &Error{Kind: ErrFailed, Detail: fmt.Sprintf("clear %s: %v", path, err), Cause: err}
		}
	}
	return nil
}
