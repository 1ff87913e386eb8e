package ipc

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxFDs bounds the descriptors accepted with one packet.
const maxFDs = 4

// Conn is one end of a SOCK_SEQPACKET unix socket carrying Messages.
// Send may be called from several goroutines; Recv from one at a time.
//
// A Conn holds no receive buffer: Recv borrows one from a pool only while
// a packet is copied in and decoded, so a master with a thousand idle
// workers does not keep a thousand 64 KiB buffers.
type Conn struct {
	uc  *net.UnixConn
	raw syscall.RawConn
	wmu sync.Mutex // serialises Send so deadlines do not interleave
	oob []byte
}

// recvBuffers are the receive buffers Recv borrows, each MaxPacket+1 bytes
// (one more than a packet may be, to see an oversized one). The pool is a
// cache shared by every Conn: any buffer serves any Recv, none outlives one.
var recvBuffers = sync.Pool{New: func() any {
	b := make([]byte, MaxPacket+1)
	return &b
}}

// NewConn wraps a connected seqpacket socket.
func NewConn(uc *net.UnixConn) *Conn {
	c := &Conn{uc: uc, oob: make([]byte, unix.CmsgSpace(maxFDs*4))}
	// A *net.UnixConn always has its RawConn; the error is for a closed
	// one, which Recv then reports as its own.
	c.raw, _ = uc.SyscallConn()
	return c
}

// FileConn makes a Conn from an inherited or socketpair descriptor. It
// takes ownership of f.
func FileConn(f *os.File) (*Conn, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", f.Name(), err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("socket %s: not a unix socket", f.Name())
	}
	return NewConn(uc), nil
}

// Pair returns a connected socketpair: the parent's Conn and the child's
// end as a file to hand to a new process (close it after the fork).
func Pair() (*Conn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	child := os.NewFile(uintptr(fds[1]), "worker-socket")
	c, err := FileConn(os.NewFile(uintptr(fds[0]), "master-socket"))
	if err != nil {
		child.Close()
		return nil, nil, err
	}
	return c, child, nil
}

// Send writes m as one packet, waiting at most timeout (0: no limit).
func (c *Conn) Send(m Message, timeout time.Duration) error {
	return c.SendFDs(m, timeout)
}

// SendFDs writes m with descriptors attached (SCM_RIGHTS). The caller keeps
// ownership of fds.
func (c *Conn) SendFDs(m Message, timeout time.Duration, fds ...int) error {
	p, err := Encode(m)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if timeout > 0 {
		if err := c.uc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return fmt.Errorf("send %s: %w", m.Kind(), err)
		}
		// An armed deadline is a runtime timer that would wake this
		// process when it expires, long after the write: clear it.
		defer c.uc.SetWriteDeadline(time.Time{})
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if _, _, err := c.uc.WriteMsgUnix(p, oob, nil); err != nil {
		return fmt.Errorf("send %s: %w", m.Kind(), err)
	}
	return nil
}

// Recv reads one packet and decodes it. Descriptors that came with it are
// returned as files (owned by the caller); on a decode error they are
// closed. io.EOF means the peer closed its end.
func (c *Conn) Recv() (Message, []*os.File, error) {
	if c.raw == nil {
		return nil, nil, &net.OpError{Op: "read", Net: "unixpacket", Err: net.ErrClosed}
	}
	var (
		buf            *[]byte
		n, oobn, flags int
		rerr           error
	)
	// The buffer is taken once the socket is readable, inside the poller's
	// callback, and given back if the read would block: a Recv waiting
	// for a packet holds none.
	err := c.raw.Read(func(fd uintptr) bool {
		buf = recvBuffers.Get().(*[]byte)
		n, oobn, flags, _, rerr = unix.Recvmsg(int(fd), *buf, c.oob, unix.MSG_CMSG_CLOEXEC)
		if rerr == unix.EAGAIN {
			recvBuffers.Put(buf)
			buf = nil
			return false
		}
		return true
	})
	if buf != nil {
		defer recvBuffers.Put(buf)
	}
	if err != nil {
		return nil, nil, err
	}
	if rerr != nil {
		return nil, nil, &net.OpError{Op: "read", Net: "unixpacket", Err: os.NewSyscallError("recvmsg", rerr)}
	}
	files, ferr := parseRights(c.oob[:oobn])
	if n == 0 && oobn == 0 {
		return nil, nil, io.EOF
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n > MaxPacket || ferr != nil {
		closeAll(files)
		if ferr != nil {
			return nil, nil, ferr
		}
		return nil, nil, ErrTruncated
	}
	// Decode copies what it keeps: the buffer goes back to the pool.
	m, err := Decode((*buf)[:n])
	if err != nil {
		closeAll(files)
		return nil, nil, err
	}
	return m, files, nil
}

// SetReadDeadline bounds the next Recv.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.uc.SetReadDeadline(t) }

// File returns a duplicate of the socket's descriptor, to pass on.
func (c *Conn) File() (*os.File, error) { return c.uc.File() }

// Close closes the socket; a Recv in progress returns an error.
func (c *Conn) Close() error { return c.uc.Close() }

// CloseWrite half-closes: the peer's Recv sees EOF.
func (c *Conn) CloseWrite() error { return c.uc.CloseWrite() }

// Peer returns the credentials of the process at the other end.
func (c *Conn) Peer() (*unix.Ucred, error) { return PeerCred(c.uc) }

// PeerCred returns the credentials of the process at the other end of a
// unix socket connection (SO_PEERCRED: who connected, not who writes now).
func PeerCred(c syscall.Conn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var serr error
	err = raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil {
		return nil, err
	}
	return cred, serr
}

func parseRights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("control message: %w", ErrMalformed)
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), "passed-fd"))
		}
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
