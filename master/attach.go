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
		if p, err = s.attachable(name); err == nil {
			p.w.Attach(f, &ipc.Attach{Rows: rows, Cols: cols, DetachKey: s.cfg.Global.DetachKey})
			f = nil
		}
	})
	if f != nil {
		f.Close()
	}
	if !ok {
		return fail(ErrShuttingDown, name)
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
		return nil, fail(ErrNotTTY, p.Name+"; set tty: true in its config to attach")
	case !p.hasJob():
		return nil, fail(ErrNotRunning, p.Name)
	}
	return p, nil
}

// WriteStdin writes data to a running tty program's terminal, as typed
// (supervisor's sendProcessStdin; a job without tty has /dev/null for
// stdin: ErrNotTTY). It returns once the data is queued for the worker.
func (s *Supervisor) WriteStdin(name string, data []byte) error {
	var err error
	if !s.do(func() {
		var p *Process
		if p, err = s.attachable(name); err == nil {
			p.w.Input(data)
		}
	}) {
		return fail(ErrShuttingDown, name)
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

// Attachable returns nil if a terminal could be attached to the one
// process name names now: a running process of a tty program. Else
// ErrNoSuchProcess, ErrBadArguments, ErrNotTTY, ErrNotRunning or
// ErrShuttingDown.
func (s *Supervisor) Attachable(name string) error {
	var err error
	if !s.do(func() { _, err = s.attachable(name) }) {
		return fail(ErrShuttingDown, name)
	}
	return err
}
