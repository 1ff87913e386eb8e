package master

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symlinks followed on the way to a folder, as the
// kernel's MAXSYMLINKS does.
const maxLinks = 40

// folderRule says how the last folder of a walk is judged; every folder
// above it must be one no other user can rename entries of (see openFolder).
type folderRule int

const (
	// ownFolder: the folder is ours (the effective uid's) and neither its
	// group nor others may write it. The rundir.
	ownFolder folderRule = iota
	// safeFolder: judged like a parent: root's or ours, writable by others
	// only when sticky. The control socket's folder.
	safeFolder
)

// openFolder opens path, creating missing folders (mode 0700), after a
// walk from / that proves no user but root and this one can change where
// it leads (what the kernel's protected_symlinks and a sticky /tmp give):
// every folder on the way is owned by root or the effective uid and
// writable by no one else unless sticky; a symlink on the way is followed
// only if root or the effective uid owns it. Each step is an openat of
// one name with O_NOFOLLOW and an fstat of what was opened, so a swap
// between the check and the use changes nothing. what names the folder in
// errors ("rundir", "control socket folder").
func openFolder(path, what string, rule folderRule) (*os.File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	w := &folderWalk{target: abs, what: what, rule: rule, uid: uint32(os.Geteuid())}
	fd, err := w.walk()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), abs), nil
}

// folderWalk is one openFolder: the folder asked for and the rule for it.
type folderWalk struct {
	target string
	what   string
	rule   folderRule
	uid    uint32
	links  int
}

func (w *folderWalk) errorf(format string, args ...any) error {
	return fmt.Errorf("%s %s: %s", w.what, w.target, fmt.Sprintf(format, args...))
}

// walk returns an O_RDONLY|O_DIRECTORY descriptor of the target.
func (w *folderWalk) walk() (int, error) {
	fd, err := w.root()
	if err != nil {
		return -1, err
	}
	cur := "/"
	rest := components(w.target)
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if name == "." {
			continue
		}
		next := filepath.Join(cur, name)
		st, err := w.lstatAt(fd, name, next, len(rest) == 0)
		if err != nil {
			unix.Close(fd)
			return -1, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, err := w.follow(fd, name, next, st)
			if err != nil {
				unix.Close(fd)
				return -1, err
			}
			rest = append(components(target), rest...)
			if filepath.IsAbs(target) {
				unix.Close(fd)
				if fd, err = w.root(); err != nil {
					return -1, err
				}
				cur = "/"
			}
			continue
		}
		nfd, err := w.enter(fd, name, next, len(rest) == 0)
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd, cur = nfd, filepath.Clean(next)
	}
	return fd, nil
}

func components(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
}

func (w *folderWalk) root() (int, error) {
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, w.errorf("open /: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, w.errorf("stat /: %v", err)
	}
	if err := w.judge("/", &st, w.target == "/"); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// lstatAt looks at name in the folder fd without following it, creating
// it as a 0700 folder when missing.
func (w *folderWalk) lstatAt(fd int, name, path string, last bool) (*unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) && name != ".." {
		if err := unix.Mkdirat(fd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, w.errorf("create %s: %v", path, err)
		}
		err = unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return nil, w.errorf("stat %s: %v", path, err)
	}
	return &st, nil
}

// follow reads a symlink that root or we own; anyone else's is refused,
// as protected_symlinks refuses them in sticky folders.
func (w *folderWalk) follow(fd int, name, path string, st *unix.Stat_t) (string, error) {
	if st.Uid != 0 && st.Uid != w.uid {
		return "", w.errorf("%s is a symlink owned by uid %d, who could point it anywhere; use a path without it", path, st.Uid)
	}
	if w.links++; w.links > maxLinks {
		return "", w.errorf("too many symlinks")
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, name, buf)
	if err != nil {
		return "", w.errorf("read symlink %s: %v", path, err)
	}
	return string(buf[:n]), nil
}

// enter opens name as a folder (a swap since lstatAt fails O_NOFOLLOW or
// O_DIRECTORY) and judges what was opened.
func (w *folderWalk) enter(fd int, name, path string, last bool) (int, error) {
	nfd, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOTDIR) {
			return -1, w.errorf("%s is not a folder", path)
		}
		return -1, w.errorf("open %s: %v", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(nfd, &st); err != nil {
		unix.Close(nfd)
		return -1, w.errorf("stat %s: %v", path, err)
	}
	if err := w.judge(filepath.Clean(path), &st, last); err != nil {
		unix.Close(nfd)
		return -1, err
	}
	return nfd, nil
}

// judge applies the rule for the last folder, and the parents' rule to
// every other: a folder others can write lets them rename what is in it
// (so move the rundir away and put their own in its place), unless it is
// sticky and the entry is root's or ours, which the next step checks.
func (w *folderWalk) judge(path string, st *unix.Stat_t, last bool) error {
	perm := st.Mode & 0o7777
	if last && w.rule == ownFolder {
		if st.Uid != w.uid {
			return w.errorf("owned by uid %d, not %d; remove it or chown %s %s && chmod 700 %s", st.Uid, w.uid, userName(w.uid), path, path)
		}
		if perm&0o022 != 0 {
			return w.errorf("mode %04o lets its group or others write it; chmod 700 %s", perm, path)
		}
		return nil
	}
	if st.Uid != 0 && st.Uid != w.uid {
		return w.errorf("folder %s is owned by uid %d, who could move it away; use a folder that only root or uid %d controls", path, st.Uid, w.uid)
	}
	if perm&0o022 != 0 && perm&unix.S_ISVTX == 0 {
		return w.errorf("folder %s (mode %04o) is writable by its group or others, who could move what is in it away; chmod go-w %s or use another folder", path, perm, path)
	}
	return nil
}

// userName is uid's name for the fix we suggest, or the number.
func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}
