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
	"github.com/taskmaster/taskmaster/master/command"
)

const prompt = "taskmaster> "

// shell runs the master's foreground shell: the line editor on a
// terminal, plain lines otherwise (no prompt, no escape sequences). Ctrl-D
// and EOF mean shutdown.
func shell(s *master.Supervisor, term *terminal, in io.Reader, out io.Writer) {
	if term == nil {
		command.ReadCommands(s, in, out)
		return
	}
	editLoop(term, out, func(args []string) bool {
		if command.IsAttach(args) {
			term.attach(out, func(rows, cols uint16) (*ipc.Conn, error) {
				conn, err := s.AttachLocal(args[1], rows, cols)
				if err != nil {
					return nil, errors.New(master.ErrorText(err))
				}
				return conn, nil
			})
			return false
		}
		if command.Follows(args) {
			term.interruptible(func(ctx context.Context) { command.Exec(ctx, s, args, out) })
		} else {
			command.Exec(context.Background(), s, args, out)
		}
		return command.IsExit(args)
	}, func() { command.Exec(context.Background(), s, []string{"shutdown"}, out) })
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
	command.Session(term.ed.ReadLine, out, run, func() {
		fmt.Fprintln(out)
		eof()
	})
}

// isTerminal reports whether f is a terminal the shell can edit on.
func isTerminal(f *os.File) bool { return lineedit.IsTerminal(int(f.Fd())) }
