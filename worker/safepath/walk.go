package safepath

import (
	"errors"
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
	opts   Options
	stack  []node
	links  int
}

// node is one folder walked through: its descriptor, the path it was
// reached by, its trust, and its owner and permission bits (for the
// errors that name it).
type node struct {
	fd    int
	path  string
	trust trust
	uid   uint32
	perm  uint32
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
// Under a Require rule the current folder must be one only root and the
// caller control before anything in it is looked at or created.
func (w *walker) step(c string) (target string, err error) {
	cur := w.stack[len(w.stack)-1]
	if w.opts.Require != Lenient && cur.trust == untrusted {
		return "", w.refusal(cur, false)
	}
	full := path.Join(cur.path, c)
	fd, err := w.openat(cur, c, full)
	if err != nil {
		return "", err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return "", &os.PathError{Op: "stat", Path: full, Err: err}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		w.stack = append(w.stack, node{fd: fd, path: full, trust: w.folderTrust(cur, &st), uid: st.Uid, perm: st.Mode & 0o7777})
		return "", nil
	case unix.S_IFLNK:
		defer unix.Close(fd)
		return w.follow(cur, fd, full, &st)
	}
	unix.Close(fd)
	return "", &os.PathError{Op: "open", Path: full, Err: unix.ENOTDIR}
}

// openat opens c in cur without following it; with Create, a missing c
// is made a folder first (mkdirat in cur, so where it is made is what was
// checked; one made by someone else meanwhile is judged like any other).
func (w *walker) openat(cur node, c, full string) (int, error) {
	const flags = unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(cur.fd, c, flags, 0)
	if errors.Is(err, unix.ENOENT) && w.opts.Create {
		if err := unix.Mkdirat(cur.fd, c, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, &os.PathError{Op: "mkdir", Path: full, Err: err}
		}
		fd, err = unix.Openat(cur.fd, c, flags, 0)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: full, Err: err}
	}
	return fd, nil
}

// follow reads the link fd if cur lets it be followed.
func (w *walker) follow(cur node, fd int, full string, st *unix.Stat_t) (string, error) {
	d := Dir{trust: cur.trust, caller: w.caller}
	if !d.trusts(st.Uid) || !d.privileged(st.Uid) {
		return "", &UntrustedError{Path: full, UID: st.Uid, Reason: OtherLink, In: cur.path}
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
	return modeTrust(st.Mode, st.Gid)
}

// modeTrust is what a folder's mode alone allows: group 0 is root's own.
func modeTrust(mode, gid uint32) trust {
	others := mode&0o002 != 0
	group := mode&0o020 != 0 && gid != 0
	switch {
	case !others && !group:
		return trusted
	case mode&unix.S_ISVTX != 0:
		return sticky
	}
	return untrusted
}

// judgeLast applies the Require rule to the folder the walk ended on.
// Every folder above it was judged when the walk stepped out of it.
func (w *walker) judgeLast() error {
	n := w.stack[len(w.stack)-1]
	switch w.opts.Require {
	case Safe:
		if n.trust == untrusted {
			return w.refusal(n, true)
		}
	case Own:
		// Not even the sticky bit or group 0 excuses a writable folder
		// here: its entries are the caller's own files.
		if int(n.uid) != w.caller {
			return &UntrustedError{Path: n.path, UID: n.uid, Perm: n.perm, Reason: OtherOwner, Last: true}
		}
		if n.perm&0o022 != 0 {
			return &UntrustedError{Path: n.path, UID: n.uid, Perm: n.perm, Reason: OthersWrite, Last: true}
		}
	}
	return nil
}

// refusal says why the untrusted folder n is untrusted. Under a Require
// rule its parent was trusted (or the walk would have stopped there), so
// it is n's owner or, failing that, its mode.
func (w *walker) refusal(n node, last bool) error {
	r := OthersWrite
	if n.uid != 0 && int(n.uid) != w.caller {
		r = OtherOwner
	}
	return &UntrustedError{Path: n.path, UID: n.uid, Perm: n.perm, Reason: r, Last: last}
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
		t = modeTrust(st.Mode, st.Gid)
	}
	w.stack = append(w.stack, node{fd: fd, path: p, trust: t, uid: st.Uid, perm: st.Mode & 0o7777})
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
