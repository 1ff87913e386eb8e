package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/taskmaster/taskmaster/config"
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

// editLoop reads command lines from the editor and runs each until run
// says to leave; on Ctrl-D (or a lost terminal) it calls eof and leaves.
func editLoop(term *terminal, out io.Writer, run func(args []string) (leave bool), eof func()) {
	// A panic must not leave the terminal raw.
	defer func() {
		if r := recover(); r != nil {
			term.Close()
			panic(r)
		}
	}()
	for {
		line, err := term.ed.ReadLine()
		if err != nil {
			fmt.Fprintln(out)
			eof()
			return
		}
		args, err := config.SplitCommand(line)
		if err != nil {
			fmt.Fprintf(out, "ERROR (bad command line): %v\n", err)
			continue
		}
		if len(args) > 0 && run(args) {
			return
		}
	}
}

// isTerminal reports whether f is a terminal the shell can edit on.
func isTerminal(f *os.File) bool { return lineedit.IsTerminal(int(f.Fd())) }
