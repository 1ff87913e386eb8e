package master

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/taskmaster/taskmaster/ipc"
)

// Attach hands f, a client's connection, to the worker of the one process
// name names, which then serves the client directly: no attach byte goes
// through the master. It owns f. The error is for the client to print.
func (s *Supervisor) Attach(name string, rows, cols uint16, f *os.File) error {
	var err error
	ok := s.do(func() {
		var p *Process
		if p, err = s.attachable(name); err == nil {
			p.w.Attach(f, &ipc.Attach{Rows: rows, Cols: cols, DetachKey: s.cfg.Global.DetachKey})
			f = nil
		}
	})
	if f != nil {
		f.Close()
	}
	if !ok {
		return refusal{"shutting down", name}
	}
	return err
}

// attachable returns the one process name names if a terminal could be
// attached to it now: a running process of a tty program. Loop only.
func (s *Supervisor) attachable(name string) (*Process, error) {
	p, err := s.resolveOne("attach", name)
	switch {
	case err != nil:
		return nil, err
	case !p.Program.TTY:
		return nil, refusal{"not a tty program", p.Name + "; set tty: true in its config to attach"}
	case p.pid == 0 || p.w == nil:
		return nil, refusal{"not running", p.Name}
	}
	return p, nil
}

// AttachLocal attaches the master's own terminal: it returns the client
// end of a new socketpair whose other end went to the worker.
func (s *Supervisor) AttachLocal(name string, rows, cols uint16) (*ipc.Conn, error) {
	conn, child, err := ipc.Pair()
	if err != nil {
		return nil, err
	}
	if err := s.Attach(name, rows, cols, child); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// cmdAttach runs when attach reaches Exec: the client has no terminal to
// lend (a pipe, a script, a client that did not ask for the hand-off), or
// the line is not `attach NAME`. It answers what attaching would have
// answered, then that a terminal is needed.
func cmdAttach(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) != 1 {
		return usage(out, "attach")
	}
	var err error
	if !s.do(func() { _, err = s.attachable(args[0]) }) {
		err = refusal{"shutting down", args[0]}
	}
	if err == nil {
		err = refusal{"attach needs a terminal", "run it from the interactive shell or `taskmaster ctl attach NAME` on a terminal"}
	}
	fmt.Fprintln(out, ErrorText(err))
	return 1
}
