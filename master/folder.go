package master

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker/safepath"
)

// OpenFolder opens path, creating missing folders (mode 0700), after
// safepath's walk from / proved that no user but root and this one can
// change where it leads (what the kernel's protected_symlinks and a
// sticky /tmp give): every folder on the way is owned by root or the
// effective uid and writable by no one else unless sticky; a symlink on
// the way is followed only if root or the effective uid owns it. rule
// judges the folder itself: safepath.Own for the rundir (ours, writable
// by no one else), safepath.Safe for the control socket's folder (as the
// ones above). what names the folder in errors ("rundir", "control
// socket folder"); they say which folder is wrong and how to fix it.
func OpenFolder(path, what string, rule safepath.Rule) (*os.File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	d, err := safepath.OpenDirWith(abs, safepath.Options{Create: true, Require: rule})
	if err != nil {
		return nil, &folderError{msg: fmt.Sprintf("%s %s: %s", what, abs, folderProblem(err, rule)), err: err}
	}
	defer d.Close()
	f, err := d.File()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, abs, err)
	}
	return f, nil
}

// folderError is OpenFolder's refusal: the message says what to fix, the
// cause (a *safepath.UntrustedError, a system error) stays reachable.
type folderError struct {
	msg string
	err error
}

func (e *folderError) Error() string { return e.msg }
func (e *folderError) Unwrap() error { return e.err }

// folderProblem says what is wrong on the way and how to fix it: a folder
// others can write lets them rename what is in it (so move the rundir
// away and put their own in its place), unless it is sticky and the
// entry is root's or ours.
func folderProblem(err error, rule safepath.Rule) string {
	uid := uint32(os.Geteuid())
	var u *safepath.UntrustedError
	if !errors.As(err, &u) {
		if errors.Is(err, unix.ENOTDIR) {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return pe.Path + " is not a folder"
			}
		}
		return err.Error()
	}
	p := u.Path
	switch {
	case u.Reason == safepath.OtherLink:
		return fmt.Sprintf("%s is a symlink owned by uid %d, who could point it anywhere; use a path without it", p, u.UID)
	case u.Last && rule == safepath.Own && u.Reason == safepath.OtherOwner:
		return fmt.Sprintf("owned by uid %d, not %d; remove it or chown %s %s && chmod 700 %s", u.UID, uid, userName(uid), p, p)
	case u.Last && rule == safepath.Own:
		return fmt.Sprintf("mode %04o lets its group or others write it; chmod 700 %s", u.Perm, p)
	case u.Reason == safepath.OtherOwner:
		return fmt.Sprintf("folder %s is owned by uid %d, who could move it away; use a folder that only root or uid %d controls", p, u.UID, uid)
	}
	return fmt.Sprintf("folder %s (mode %04o) is writable by its group or others, who could move what is in it away; chmod go-w %s or use another folder", p, u.Perm, p)
}

// userName is uid's name for the fix we suggest, or the number.
func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}
