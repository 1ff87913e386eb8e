package safepath

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks is the kernel's own limit on links followed in one lookup
// (MAXSYMLINKS, path_resolution(7)).
const maxLinks = 40

// Owner is the user a file is opened for. UID -1 means the caller itself;
// GID -1 leaves the group a created file gets from its folder.
type Owner struct {
	UID, GID int
}

// Caller is the Owner for files the caller opens for itself.
var Caller = Owner{UID: -1, GID: -1}

type trust uint8

const (
	untrusted trust = iota // others can replace its entries
	sticky                 // others can add entries, not replace root's or the caller's
	trusted                // only root and the caller can change it
)

// Dir is one resolved folder, held open (O_PATH) so later operations act
// on it whatever happens to its path.
type Dir struct {
	fd     int
	path   string
	trust  trust
	caller int
}

// Rule is what a walk requires of the folders it goes through.
type Rule uint8

const (
	// Lenient refuses no folder: each gets its trust, and Dir.Open decides
	// file by file (a job's log may live in its user's folders).
	Lenient Rule = iota
	// Safe: every folder on the way and the folder asked for must be one
	// only root and the caller control (trusted, or sticky and the next
	// entry root's or the caller's). The control socket's folder.
	Safe
	// Own: as Safe on the way; the folder asked for must be the caller's
	// and writable by neither its group nor others. The rundir.
	Own
)

// Options say how OpenDirWith resolves a folder.
type Options struct {
	// Create makes each missing folder on the way, mode 0700 (under the
	// umask), with mkdirat in the folder the walk holds.
	Create bool
	// Require refuses, with an *UntrustedError, the first folder that
	// breaks the rule, before anything in it is looked at or created.
	Require Rule
}

// OpenDir resolves the folder at p, refusing no folder (Lenient); a
// relative p is taken from the working folder, but still walked from "/".
func OpenDir(p string) (*Dir, error) { return OpenDirWith(p, Options{}) }

// OpenDirWith resolves the folder at p as opts say.
func OpenDirWith(p string, opts Options) (*Dir, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	w := &walker{caller: os.Geteuid(), opts: opts}
	if err := w.push("/"); err != nil {
		return nil, err
	}
	err = w.walk(p)
	if err == nil {
		err = w.judgeLast()
	}
	if err != nil {
		w.closeAll()
		return nil, err
	}
	d := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	w.closeAll()
	return &Dir{fd: d.fd, path: d.path, trust: d.trust, caller: w.caller}, nil
}

// Open resolves the folder of the path p and opens p's last
// element in it (see Dir.Open).
func Open(p string, flags int, perm uint32, owner Owner) (*os.File, error) {
	dir, name := path.Split(path.Clean(p))
	if name == "" || name == "." || name == ".." {
		return nil, fmt.Errorf("open %s: %w (a folder)", p, ErrNotRegular)
	}
	d, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Open(name, flags, perm, owner)
}

// Close releases the folder.
func (d *Dir) Close() error { return unix.Close(d.fd) }

// Path is the folder's path as walked: through the links followed.
func (d *Dir) Path() string { return d.path }

// File opens the folder itself for reading ("." in it: the same folder,
// whatever its path has become), for what an O_PATH descriptor cannot do:
// fchmod, getdents, flock. It is named by Path.
func (d *Dir) File() (*os.File, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	return os.NewFile(uintptr(fd), d.path), nil
}

// Open opens the regular file name in d. flags are os.OpenFile's; with
// O_CREATE a missing file is created with perm (under the umask) and given
// to owner. The returned file is blocking, close-on-exec, and never a
// terminal; a link, a FIFO or any other non-regular file is refused, and
// so is an existing file that d does not trust and that is not owner's.
// Its errors are causes only (the caller names the file): ErrSymlink,
// ErrNotRegular, ErrOwner, or the system's (ENOENT, EACCES).
func (d *Dir) Open(name string, flags int, perm uint32, owner Owner) (*os.File, error) {
	full := path.Join(d.path, name)
	if strings.Contains(name, "/") {
		return nil, fmt.Errorf("%q: not a plain file name", name)
	}
	base := unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	if flags&os.O_CREATE != 0 {
		fd, err := unix.Openat(d.fd, name, flags|os.O_EXCL|base, perm)
		if err == nil {
			return d.created(fd, full, owner, flags|base)
		}
		if !errors.Is(err, unix.EEXIST) {
			return nil, d.openError(name, err)
		}
		flags &^= os.O_CREATE | os.O_EXCL
	}
	fd, err := unix.Openat(d.fd, name, flags|base, 0)
	if err != nil {
		return nil, d.openError(name, err)
	}
	if err := d.checkExisting(fd, owner); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return file(fd, full, flags|base)
}

// created finishes a file Open made: it belongs to owner. It is a new
// regular file: O_CREAT|O_EXCL creates one or fails on any name that
// exists, a link (even dangling) or a FIFO included (open(2)), so no
// fstat is needed to tell.
func (d *Dir) created(fd int, full string, owner Owner, flags int) (*os.File, error) {
	if owner.UID >= 0 || owner.GID >= 0 {
		if err := unix.Fchown(fd, owner.UID, owner.GID); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("chown: %w", err)
		}
	}
	return file(fd, full, flags)
}

// checkExisting refuses what must not be written or read for owner: it
// is the one fstat of an existing file, and refuses all but a regular
// file.
func (d *Dir) checkExisting(fd int, owner Owner) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode))
	}
	if d.trusts(st.Uid) {
		return nil
	}
	uid := owner.UID
	if uid < 0 {
		uid = d.caller
	}
	switch {
	case int(st.Uid) != uid:
		return fmt.Errorf("%w: owned by uid %d, not %d, in %s, which others can write", ErrOwner, st.Uid, uid, d.path)
	case d.privileged(st.Uid) && st.Nlink != 1:
		return fmt.Errorf("%w: %d hard links, in %s, which others can write", ErrOwner, st.Nlink, d.path)
	}
	return nil
}

// openError names what is at name when it is not a file to open.
func (d *Dir) openError(name string, err error) error {
	var st unix.Stat_t
	if serr := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil {
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			return ErrSymlink
		case unix.S_IFREG:
		default:
			// ENXIO (a FIFO nobody reads, a socket), or EISDIR.
			return fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode))
		}
	}
	return err
}

// Rename renames from to to, both in d (renameat(2) on d's descriptor: no
// link on either side is followed).
func (d *Dir) Rename(from, to string) error {
	if err := unix.Renameat(d.fd, from, d.fd, to); err != nil {
		return &os.LinkError{Op: "rename", Old: path.Join(d.path, from), New: path.Join(d.path, to), Err: err}
	}
	return nil
}

// trusts says whether an entry of d owned by uid was put there by root or
// the caller and cannot be replaced by anyone else.
func (d *Dir) trusts(uid uint32) bool {
	return d.trust == trusted || (d.trust == sticky && d.privileged(uid))
}

func (d *Dir) privileged(uid uint32) bool { return uid == 0 || int(uid) == d.caller }

// file makes fd, a regular file already checked (created, or fstat'd by
// checkExisting) and opened with flags, an *os.File that blocks as usual:
// O_NONBLOCK was only for the open. F_SETFL with the flags it was opened
// with saves the F_GETFL that unix.SetNonblock would make (F_SETFL heeds
// only the status flags: O_APPEND, O_NONBLOCK...).
func file(fd int, name string, flags int) (*os.File, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

func kind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFDIR:
		return "folder"
	case unix.S_IFLNK:
		return "symbolic link"
	}
	return "unknown type"
}
