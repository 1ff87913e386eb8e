package master

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/safepath"
)

// followEvery is how often `tail -f` looks for new output. It costs
// nothing while no tail -f runs.
const followEvery = 100 * time.Millisecond

const defaultTailBytes = 1600 // supervisorctl's

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

// tailArgs parses `[-f] [-N]` and returns the rest.
func tailArgs(args []string) (follow bool, n int64, rest []string, err error) {
	n = defaultTailBytes
	for _, a := range args {
		switch {
		case a == "-f":
			follow = true
		case strings.HasPrefix(a, "-"):
			v, perr := strconv.ParseInt(a[1:], 10, 64)
			if perr != nil || v < 0 {
				return false, 0, nil, fmt.Errorf("bad byte count %q", a)
			}
			n = v
		default:
			rest = append(rest, a)
		}
	}
	return follow, n, rest, nil
}

func cmdTail(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	follow, n, rest, err := tailArgs(args)
	if err != nil || len(rest) < 1 || len(rest) > 2 {
		return usage(out, "tail")
	}
	stream := "stdout"
	if len(rest) == 2 {
		stream = rest[1]
		if stream != "stdout" && stream != "stderr" {
			return usage(out, "tail")
		}
	}
	var p *Process
	var path string
	var owner safepath.Owner
	s.do(func() {
		if p, err = s.resolveOne("tail", rest[0]); err != nil {
			return
		}
		path, owner = p.Program.Stdout, jobOwner(p)
		if stream == "stderr" {
			path = p.Program.Stderr
		}
	})
	if err != nil {
		return errorLine(out, err)
	}
	return printOutput(ctx, s.outputOf(p, stream, path, owner), n, follow, out)
}

func cmdMaintail(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	follow, n, rest, err := tailArgs(args)
	if err != nil || len(rest) != 0 {
		return usage(out, "maintail")
	}
	path := s.log.Path()
	return printOutput(ctx, func(off int64, file uint64) (*ipc.TailData, error) {
		return readLog(path, safepath.Caller, off, file)
	}, n, follow, out)
}

// jobOwner is the user p's files belong to. Loop only.
func jobOwner(p *Process) safepath.Owner {
	return safepath.Owner{UID: p.Program.UID, GID: p.Program.GID}
}

// nextLook waits until it is time to look for new output again; false
// when the follower should stop (Ctrl-C, a ctl client gone).
func nextLook(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(followEvery):
		return true
	}
}

// reader reads a stream's output from off in the file identified by
// file, with ipc.Tail's meaning; an error means there is nothing to read.
type reader func(off int64, file uint64) (*ipc.TailData, error)

// printOutput prints the last n bytes that read finds and, following,
// what is written after, across truncation and rotation. Without follow
// it stops at the end its first answer saw, however fast the job writes.
func printOutput(ctx context.Context, read reader, n int64, follow bool, out io.Writer) int {
	off, file, end := -n, uint64(0), int64(-1)
	for {
		d, err := read(off, file)
		if err != nil && end < 0 && !(follow && mayAppear(err)) {
			if _, ok := errors.AsType[refusal](err); !ok {
				err = refusal{"no log", err.Error()}
			}
			return errorLine(out, err)
		}
		if d != nil {
			if _, err := out.Write(d.Data); err != nil {
				return 0 // the reader went away
			}
			off, file = d.Offset+int64(len(d.Data)), d.File
			if end < 0 {
				end = d.Next
			}
			if len(d.Data) > 0 && off < d.Next && (follow || off < end) {
				continue // more than one packet's worth is waiting
			}
		}
		if !follow || !nextLook(ctx) {
			return 0
		}
	}
}

// mayAppear says whether tail -f waits on err: a file not there yet, a
// worker not started yet.
func mayAppear(err error) bool {
	r, ok := errors.AsType[refusal](err)
	return errors.Is(err, os.ErrNotExist) || (ok && r.reason == errNoWorker("").reason)
}

func errNoWorker(name string) refusal {
	return refusal{"no output kept", name + " has no running worker"}
}

// outputOf reads p's stream through its worker, which holds the log file
// open (or keeps a discarded stream's output); with no worker, from the
// log file, resolved as safepath allows.
func (s *Supervisor) outputOf(p *Process, stream, path string, owner safepath.Owner) reader {
	return func(off int64, file uint64) (*ipc.TailData, error) {
		if d := s.askTail(p, ipc.Tail{Stream: stream, Offset: off, Max: tailChunk, File: file}); d != nil {
			return d, nil
		}
		if path == "" {
			return nil, errNoWorker(p.Name)
		}
		return readLog(path, owner, off, file)
	}
}

// tailChunk is the most one read returns: one TailData fits a packet.
const tailChunk = 32 << 10

// readLog reads a log file as the worker's tail does (see ipc.Tail),
// opened read-only through safepath: nothing another user controls is
// followed, and only a regular file is read.
func readLog(path string, owner safepath.Owner, off int64, file uint64) (*ipc.TailData, error) {
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
	buf := make([]byte, min(tailChunk, size-off))
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

func cmdClear(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	return s.each("clear", args, out, func(p *Process, done func(string)) {
		if p.w == nil {
			done(clearFiles(p))
			return
		}
		// The worker truncates through its own descriptors: the path may
		// lead elsewhere by now (the job can change its folders).
		answered := false
		answer := func(msg string) { // loop only
			if !answered {
				answered = true
				done(msg)
			}
		}
		timer := time.AfterFunc(clearWait, func() {
			s.Post(func() { answer("ERROR (no answer from the worker)") })
		})
		p.w.Clear(func(c *ipc.Cleared) {
			timer.Stop()
			switch {
			case c == nil: // the worker went away first
				answer(clearFiles(p))
			case c.Error != "":
				answer(fmt.Sprintf("ERROR (%s)", c.Error))
			default:
				answer("cleared")
			}
		})
	})
}

// clearFiles truncates p's log files when no worker holds them, each
// opened write-only through safepath: never created, never truncated by
// path. Loop only.
func clearFiles(p *Process) string {
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
			return fmt.Sprintf("ERROR (clear %s: %v)", path, err)
		}
	}
	return "cleared"
}
