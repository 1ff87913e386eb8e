package safepath

import (
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// walker resolves a path one component at a time. stack holds the
// folders from "/" down, each open O_PATH, so ".." goes back to the folder
// actually walked through, with its trust.
type walker struct {
	caller int
	stack  []node
	links  int
}

type node struct {
	fd    int
	path  string
	trust trust
}

// walk resolves every component of p, from the top of the stack.
func (w *walker) walk(p string) error {
	todo := strings.Split(p, "/")
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			w.up()
			continue
		}
		target, err := w.step(c)
		if err != nil {
			return err
		}
		if target == "" {
			continue
		}
		if path.IsAbs(target) {
			w.toRoot()
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return nil
}

// step opens the component c of the current folder: a folder is pushed;
// a link that may be followed returns its target; anything else fails.
func (w *walker) step(c string) (target string, err error) {
	cur := w.stack[len(w.stack)-1]
	full := path.Join(cur.path, c)
	fd, err := unix.Openat(cur.fd, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: full, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return "", &os.PathError{Op: "stat", Path: full, Err: err}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		w.stack = append(w.stack, node{fd: fd, path: full, trust: w.folderTrust(cur, &st)})
		return "", nil
	case unix.S_IFLNK:
		defer unix.Close(fd)
		return w.follow(cur, fd, full, &st)
	}
	unix.Close(fd)
	return "", &os.PathError{Op: "open", Path: full, Err: unix.ENOTDIR}
}

// follow reads the link fd if cur lets it be followed.
func (w *walker) follow(cur node, fd int, full string, st *unix.Stat_t) (string, error) {
	d := Dir{trust: cur.trust, caller: w.caller}
	if !d.trusts(st.Uid) || !d.privileged(st.Uid) {
		return "", fmt.Errorf("%s: %w (owned by uid %d, in %s)", full, ErrUntrustedLink, st.Uid, cur.path)
	}
	if w.links++; w.links > maxLinks {
		return "", &os.PathError{Op: "open", Path: full, Err: unix.ELOOP}
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf) // "" : the link fd itself (O_PATH)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: full, Err: err}
	}
	if n == 0 {
		return "", &os.PathError{Op: "readlink", Path: full, Err: unix.ENOENT}
	}
	return string(buf[:n]), nil
}

// folderTrust is the trust of a folder with stat st found in parent.
func (w *walker) folderTrust(parent node, st *unix.Stat_t) trust {
	d := Dir{trust: parent.trust, caller: w.caller}
	if !d.trusts(st.Uid) || !d.privileged(st.Uid) {
		return untrusted
	}
	return modeTrust(st)
}

// modeTrust is what a folder's mode alone allows: group 0 is root's own.
func modeTrust(st *unix.Stat_t) trust {
	others := st.Mode&0o002 != 0
	group := st.Mode&0o020 != 0 && st.Gid != 0
	switch {
	case !others && !group:
		return trusted
	case st.Mode&unix.S_ISVTX != 0:
		return sticky
	}
	return untrusted
}

// push opens the folder p (the root) as the bottom of the stack.
func (w *walker) push(p string) error {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	t := untrusted
	if st.Uid == 0 || int(st.Uid) == w.caller {
		t = modeTrust(&st)
	}
	w.stack = append(w.stack, node{fd: fd, path: p, trust: t})
	return nil
}

// up goes to the parent folder; ".." of "/" is "/".
func (w *walker) up() {
	if n := len(w.stack); n > 1 {
		unix.Close(w.stack[n-1].fd)
		w.stack = w.stack[:n-1]
	}
}

func (w *walker) toRoot() {
	for len(w.stack) > 1 {
		w.up()
	}
}

func (w *walker) closeAll() {
	for _, n := range w.stack {
		unix.Close(n.fd)
	}
	w.stack = nil
}
