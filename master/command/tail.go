package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/taskmaster/taskmaster/master"
)

// followEvery is how often `tail -f` looks for new output. It costs
// nothing while no tail -f runs.
const followEvery = 100 * time.Millisecond

const defaultTailBytes = 1600 // supervisorctl's

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

func cmdTail(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	follow, n, rest, err := tailArgs(args)
	if err != nil || len(rest) < 1 || len(rest) > 2 {
		return usage(out, "tail")
	}
	stream := master.Stdout
	if len(rest) == 2 {
		stream = rest[1]
		if stream != master.Stdout && stream != master.Stderr {
			return usage(out, "tail")
		}
	}
	return printOutput(ctx, func(r master.LogRead) (master.LogChunk, error) {
		return s.Tail(rest[0], stream, r)
	}, n, follow, out)
}

func cmdMaintail(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	follow, n, rest, err := tailArgs(args)
	if err != nil || len(rest) != 0 {
		return usage(out, "maintail")
	}
	return printOutput(ctx, s.MainTail, n, follow, out)
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

// printOutput prints the last n bytes that read finds and, following,
// what is written after, across truncation and rotation. Without follow
// it stops at the end its first answer saw, however fast the job writes.
func printOutput(ctx context.Context, read func(master.LogRead) (master.LogChunk, error), n int64, follow bool, out io.Writer) int {
	r, end := master.LogRead{Offset: -n}, int64(-1)
	for {
		d, err := read(r)
		if err != nil && end < 0 && !(follow && mayAppear(err)) {
			return errorLine(out, err)
		}
		if err == nil {
			if _, err := out.Write(d.Data); err != nil {
				return 0 // the reader went away
			}
			r = master.LogRead{Offset: d.Offset + int64(len(d.Data)), File: d.File}
			if end < 0 {
				end = d.Next
			}
			if len(d.Data) > 0 && r.Offset < d.Next && (follow || r.Offset < end) {
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
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, master.ErrNoOutput)
}
