package ctl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/master"
	"github.com/taskmaster/taskmaster/master/command"
	"github.com/taskmaster/taskmaster/master/localsock"
)

// Control serves `taskmaster ctl` on a unix seqpacket socket of mode 0600.
// Each connection carries one Request; the answer is Output packets and a
// Done. Only root and the master's own uid are served (SO_PEERCRED).
type Control struct {
	s  *master.Supervisor
	ln *net.UnixListener
}

// Listen creates the control socket at path (see localsock.Listen: a
// folder only root and this uid control, mode 0600, a stale socket of
// ours replaced).
func Listen(s *master.Supervisor, path string) (*Control, error) {
	ln, err := localsock.Listen("unixpacket", path, "control socket")
	if err != nil {
		return nil, err
	}
	return &Control{s: s, ln: ln}, nil
}

// Serve accepts connections until Close.
func (c *Control) Serve() {
	for {
		uc, err := c.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and friends: do not spin
			continue
		}
		c.s.GoSafe(func() { c.serve(ipc.NewConn(uc)) })
	}
}

// Close stops accepting and removes the socket.
func (c *Control) Close() error { return c.ln.Close() }

func (c *Control) serve(conn *ipc.Conn) {
	defer conn.Close()
	cred, err := conn.Peer()
	if err != nil {
		return
	}
	if !localsock.PeerAllowed(cred) {
		c.s.Logf("WARN", "control: refused uid %d (pid %d)", cred.Uid, cred.Pid)
		// Read the request first: closing a socket with unread data resets
		// it, and the client would lose the refusal.
		conn.SetReadDeadline(time.Now().Add(time.Second))
		conn.Recv()
		conn.Send(&ipc.Output{Data: fmt.Sprintf("ERROR (permission denied): uid %d may not control this taskmaster\n", cred.Uid)}, time.Second)
		conn.Send(&ipc.Done{Code: 1}, time.Second)
		return
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, files, err := conn.Recv()
	for _, f := range files {
		f.Close()
	}
	req, ok := m.(*ipc.Request)
	if err != nil || !ok {
		return
	}
	conn.SetReadDeadline(time.Time{})
	if req.Attach && command.IsAttach(req.Args) {
		c.attach(conn, req)
		return
	}
	// The request stays in flight until Done is sent, so a `shutdown`
	// gets its answer before the master exits.
	ctx, end := c.s.Begin(context.Background())
	defer end()
	// The client says nothing more; its leaving (EOF) ends `tail -f`.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.s.GoSafe(func() {
		conn.Recv()
		cancel()
	})
	w := &packetWriter{conn: conn}
	code := command.Exec(ctx, c.s, req.Args, w)
	if w.err == nil {
		conn.Send(&ipc.Done{Code: code}, 5*time.Second)
	}
}

// packetWriter turns a command's output into Output packets.
type packetWriter struct {
	conn *ipc.Conn
	err  error
}

func (w *packetWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	const chunk = ipc.MaxPacket / 2
	for i := 0; i < len(b); i += chunk {
		end := min(i+chunk, len(b))
		if err := w.conn.Send(&ipc.Output{Data: string(b[i:end])}, 5*time.Second); err != nil {
			w.err = err
			return i, err
		}
	}
	return len(b), nil
}

// attach hands the client's connection to the job's worker; only an error
// is answered here.
func (c *Control) attach(conn *ipc.Conn, req *ipc.Request) {
	f, err := conn.File()
	if err == nil {
		err = c.s.Attach(req.Args[1], req.Rows, req.Cols, f)
	}
	if err != nil {
		conn.Send(&ipc.Output{Data: master.ErrorText(err) + "\n"}, time.Second)
		conn.Send(&ipc.Done{Code: 1}, time.Second)
	}
}
