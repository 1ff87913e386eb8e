package localsock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker/safepath"
)

// Listen creates a unix socket of the given network ("unix" or
// "unixpacket") at path, mode 0600, replacing a stale one. The socket's
// folder must be one only root and this uid control (OpenFolder with
// safepath.Safe), so no other user can move the socket away or put theirs
// in its place; what is replaced must be a socket of ours. what names the
// socket in errors ("control socket"); its folder is "<what> folder". The
// listener removes the socket when closed.
func Listen(network, path, what string) (*net.UnixListener, error) {
	dir, err := OpenFolder(filepath.Dir(path), what+" folder", safepath.Safe)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	name := filepath.Base(path)
	// The pid-file lock proves no other master uses this rundir, so an
	// existing socket is a leftover of a crash.
	if err := removeStaleSocket(dir, name, path, what); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix(network, &net.UnixAddr{Name: path, Net: network})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := chmodSocket(dir, name, path, what); err != nil {
		ln.Close()
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	return ln, nil
}

// removeStaleSocket removes name from dir if it is a socket of ours; any
// other file there is refused, not removed.
func removeStaleSocket(dir *os.File, name, path, what string) error {
	var st unix.Stat_t
	err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || st.Uid != uint32(os.Geteuid()) {
		return fmt.Errorf("%s %s: exists and is not a socket of uid %d; remove it", what, path, os.Geteuid())
	}
	if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s %s: remove the stale one: %w", what, path, err)
	}
	return nil
}

// chmodSocket makes the new socket 0600. A socket's descriptor does not
// carry its file's mode, so the file is opened O_PATH|O_NOFOLLOW in its
// checked folder and changed through /proc/self/fd, never by its path.
// (Until then the peer-credential check refuses anyone else anyway.)
func chmodSocket(dir *os.File, name, path, what string) error {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fmt.Errorf("%s %s: replaced by something else after bind", what, path)
	}
	if err := unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), 0o600); err != nil {
		return fmt.Errorf("%s %s: chmod: %w", what, path, err)
	}
	return nil
}

// PeerAllowed reports whether a peer of these credentials may use the
// master's sockets: root, or the uid the master runs as.
func PeerAllowed(cred *unix.Ucred) bool {
	return cred.Uid == 0 || int(cred.Uid) == os.Getuid()
}
