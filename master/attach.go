package master

import (
	"fmt"
	"os"

	"github.com/taskmaster/taskmaster/ipc"
)

// Attach hands f, a client's connection, to the worker of the one process
// name names, which then serves the client directly: no attach byte goes
// through the master. It owns f. The error is for the client to print.
func (s *Supervisor) Attach(name string, rows, cols uint16, f *os.File) error {
	var err error
	ok := s.do(func() {
		var ps []*Process
		if ps, err = s.resolve([]string{name}); err != nil {
			return
		}
		switch p := ps[0]; {
		case len(ps) != 1:
			err = attachError{"bad arguments", fmt.Sprintf("attach takes one process; %s names %d", name, len(ps))}
		case !p.Program.TTY:
			err = attachError{"not a tty program", p.Name + "; set tty: true in its config to attach"}
		case p.pid == 0 || p.w == nil:
			err = attachError{"not running", p.Name}
		default:
			p.w.Attach(f, &ipc.Attach{Rows: rows, Cols: cols, DetachKey: s.cfg.Global.DetachKey})
			f = nil
		}
	})
	if f != nil {
		f.Close()
	}
	if !ok {
		return attachError{"shutting down", name}
	}
	return err
}

// attachError is why an attach was refused: the reason in parentheses,
// then what it concerns, as every error line of the shell.
type attachError struct{ reason, detail string }

func (e attachError) Error() string { return e.reason + ": " + e.detail }

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

// AttachError formats an Attach error as the shell prints it.
func AttachError(err error) string {
	switch e := err.(type) {
	case noSuchProcess:
		return fmt.Sprintf("ERROR (no such process): %s", string(e))
	case attachError:
		return fmt.Sprintf("ERROR (%s): %s", e.reason, e.detail)
	}
	return fmt.Sprintf("ERROR (%v)", err)
}

// cmdAttach runs when attach reaches Exec: the shell and ctl handle it
// themselves on a terminal, so here there is none.
func cmdAttach(s *Supervisor, args []string) string {
	return "ERROR (attach needs a terminal): run it from the interactive shell or `taskmaster ctl attach NAME` on a terminal"
}
