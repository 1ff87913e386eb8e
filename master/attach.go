package master

import (
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
		if p, err = s.resolveOne("attach", name); err != nil {
			return
		}
		switch {
		case !p.Program.TTY:
			err = refusal{"not a tty program", p.Name + "; set tty: true in its config to attach"}
		case p.pid == 0 || p.w == nil:
			err = refusal{"not running", p.Name}
		default:
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

// cmdAttach runs when attach reaches Exec: the shell and ctl handle it
// themselves on a terminal, so here there is none.
func cmdAttach(s *Supervisor, args []string) string {
	return "ERROR (attach needs a terminal): run it from the interactive shell or `taskmaster ctl attach NAME` on a terminal"
}
