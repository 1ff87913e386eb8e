package master

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
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
	s.do(func() {
		if p, err = s.resolveOne("tail", rest[0]); err != nil {
			return
		}
		path = p.Program.Stdout
		if stream == "stderr" {
			path = p.Program.Stderr
		}
	})
	if err != nil {
		return errorLine(out, err)
	}
	if path != "" {
		return tailFile(ctx, path, n, follow, out)
	}
	return s.tailKept(ctx, p, stream, n, follow, out)
}

func cmdMaintail(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	follow, n, rest, err := tailArgs(args)
	if err != nil || len(rest) != 0 {
		return usage(out, "maintail")
	}
	return tailFile(ctx, s.log.Path(), n, follow, out)
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

// tailFile prints the last n bytes of path and, following, what is
// appended, across truncation and rotation (a new file at path).
func tailFile(ctx context.Context, path string, n int64, follow bool, out io.Writer) int {
	f, err := os.Open(path)
	if err != nil && !(follow && errors.Is(err, os.ErrNotExist)) {
		fmt.Fprintf(out, "ERROR (no log): %v\n", err)
		return 1
	}
	var pos int64
	if f != nil {
		defer func() { f.Close() }()
		if st, err := f.Stat(); err == nil {
			pos = max(0, st.Size()-n)
		}
	}
	for {
		if f != nil {
			next, err := copyFrom(f, pos, out)
			if err != nil {
				return 0 // the reader went away
			}
			pos = next
		}
		if !follow || !nextLook(ctx) {
			return 0
		}
		// Rotated or recreated: follow the new file from its start.
		if st, err := os.Stat(path); err == nil {
			if cur, _ := fstat(f); cur == nil || !os.SameFile(cur, st) {
				if nf, err := os.Open(path); err == nil {
					if f != nil {
						f.Close()
					}
					f, pos = nf, 0
				}
			} else if st.Size() < pos {
				pos = 0 // truncated (clear, copytruncate)
			}
		}
	}
}

func fstat(f *os.File) (os.FileInfo, error) {
	if f == nil {
		return nil, os.ErrNotExist
	}
	return f.Stat()
}

// copyFrom writes f's bytes from pos to its current end; it returns the
// new position, or an error if out failed.
func copyFrom(f *os.File, pos int64, out io.Writer) (int64, error) {
	buf := make([]byte, 32<<10)
	for {
		n, err := f.ReadAt(buf, pos)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				return pos, werr
			}
			pos += int64(n)
		}
		if err != nil {
			return pos, nil
		}
	}
}

// tailKept prints a discarded stream's kept output, from the worker's ring.
// Without -f it stops at the end its first answer saw, however fast the
// job writes.
func (s *Supervisor) tailKept(ctx context.Context, p *Process, stream string, n int64, follow bool, out io.Writer) int {
	d := s.askTail(p, stream, -n)
	if d == nil && !follow {
		fmt.Fprintf(out, "ERROR (no output kept): %s has no running worker\n", p.Name)
		return 1
	}
	var off, end int64
	for {
		if d != nil {
			if off > d.Next {
				off = 0 // a new worker: its stream counts from zero again
			}
			if _, err := out.Write(d.Data); err != nil {
				return 0
			}
			off = d.Offset + int64(len(d.Data))
			if end == 0 {
				end = d.Next
			}
			if !follow && off >= end {
				return 0
			}
			if off < d.Next {
				d = s.askTail(p, stream, off)
				continue // more than one packet's worth is waiting
			}
		}
		if !follow || !nextLook(ctx) {
			return 0
		}
		d = s.askTail(p, stream, off)
	}
}

// askTail asks p's worker for kept output from off (negative: from the
// end); nil if p has no worker or it did not answer.
func (s *Supervisor) askTail(p *Process, stream string, off int64) *ipc.TailData {
	reply := make(chan *ipc.TailData, 1)
	ok := s.do(func() {
		if p.w == nil {
			reply <- nil
			return
		}
		p.w.Tail(stream, off, 32<<10, func(d *ipc.TailData) { reply <- d })
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

func cmdClear(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	return s.each("clear", args, out, func(p *Process, done func(string)) {
		for _, path := range []string{p.Program.Stdout, p.Program.Stderr} {
			if path != "" {
				if err := os.Truncate(path, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
					done(fmt.Sprintf("ERROR (%v)", err))
					return
				}
			}
		}
		if p.w != nil {
			p.w.Clear()
		}
		done("cleared")
	})
}
