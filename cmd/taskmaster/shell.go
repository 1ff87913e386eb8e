package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/lineedit"
	"github.com/taskmaster/taskmaster/master"
)

const prompt = "taskmaster> "

// shell runs the master's foreground shell: the line editor on a
// terminal, plain lines otherwise (no prompt, no escape sequences). Ctrl-D
// and EOF mean shutdown.
func shell(s *master.Supervisor, term *terminal, in io.Reader, out io.Writer) {
	if term == nil {
		s.ReadCommands(in, out)
		return
	}
	editLoop(term, out, func(args []string) bool {
		if master.IsAttach(args) && len(args) == 2 {
			term.attach(out, func(rows, cols uint16) (*ipc.Conn, error) {
				conn, err := s.AttachLocal(args[1], rows, cols)
				if err != nil {
					return nil, errors.New(master.ErrorText(err))
				}
				return conn, nil
			})
			return false
		}
		if follows(args) {
			term.interruptible(func(ctx context.Context) { s.ExecContext(ctx, args, out) })
		} else {
			s.Exec(args, out)
		}
		return master.IsExit(args)
	}, func() { s.Exec([]string{"shutdown"}, out) })
}

// editLoop runs a Session on the line editor; on Ctrl-D (or a lost
// terminal) it calls eof.
func editLoop(term *terminal, out io.Writer, run func(args []string) (leave bool), eof func()) {
	// A panic must not leave the terminal raw.
	defer func() {
		if r := recover(); r != nil {
			term.Close()
			panic(r)
		}
	}()
	master.Session(term.ed.ReadLine, out, run, func() {
		fmt.Fprintln(out)
		eof()
	})
}

// isTerminal reports whether f is a terminal the shell can edit on.
func isTerminal(f *os.File) bool { return lineedit.IsTerminal(int(f.Fd())) }
