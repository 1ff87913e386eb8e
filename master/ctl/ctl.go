package ctl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/master"
	"github.com/taskmaster/taskmaster/master/command"
	"github.com/taskmaster/taskmaster/worker/safepath"
)

// Control serves `taskmaster ctl` on a unix seqpacket socket of mode 0600.
// Each connection carries one Request; the answer is Output packets and a
// Done. Only root and the master's own uid are served (SO_PEERCRED).
type Control struct {
	s  *master.Supervisor
	ln *net.UnixListener
}

// Listen creates the control socket at path, replacing a stale one. The
// socket's folder must be one only root and this uid control (see
// OpenFolder), so no other user can move the socket away or put theirs in
// its place; what is replaced must be a socket of ours.
func Listen(s *master.Supervisor, path string) (*Control, error) {
	dir, err := master.OpenFolder(filepath.Dir(path), "control socket folder", safepath.Safe)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	name := filepath.Base(path)
	// The pid-file lock proves no other master uses this rundir, so an
	// existing socket is a leftover of a crash.
	if err := removeStaleSocket(dir, name, path); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := chmodSocket(dir, name, path); err != nil {
		ln.Close()
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	return &Control{s: s, ln: ln}, nil
}

// removeStaleSocket removes name from dir if it is a socket of ours; any
// other file there is refused, not removed.
func removeStaleSocket(dir *os.File, name, path string) error {
	var st unix.Stat_t
	err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || st.Uid != uint32(os.Geteuid()) {
		return fmt.Errorf("control socket %s: exists and is not a socket of uid %d; remove it", path, os.Geteuid())
	}
	if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("control socket %s: remove the stale one: %w", path, err)
	}
	return nil
}

// chmodSocket makes the new socket 0600. A socket's descriptor does not
// carry its file's mode, so the file is opened O_PATH|O_NOFOLLOW in its
// checked folder and changed through /proc/self/fd, never by its path.
// (Until then the peer-credential check refuses anyone else anyway.)
func chmodSocket(dir *os.File, name, path string) error {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fmt.Errorf("control socket %s: replaced by something else after bind", path)
	}
	if err := unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), 0o600); err != nil {
		return fmt.Errorf("control socket %s: chmod: %w", path, err)
	}
	return nil
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
	if cred.Uid != 0 && int(cred.Uid) != os.Getuid() {
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
	if req.Attach && command.IsAttach(req.Args) && len(req.Args) == 2 {
		c.attach(conn, req)
		return
	}
	// The client says nothing more; its leaving (EOF) ends `tail -f`.
	ctx, cancel := context.WithCancel(context.Background())
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
