package safepath

import (
	"errors"
	"fmt"
)

var (
	// ErrUntrustedLink: a symbolic link on the way that the caller may not
	// follow (in a folder another user can write, or owned by another user).
	ErrUntrustedLink = errors.New("symbolic link another user controls")
	// ErrUntrustedFolder: a folder on the way, or the folder asked for,
	// that a Require rule refuses.
	ErrUntrustedFolder = errors.New("folder another user controls")
	// ErrSymlink: the file itself is a symbolic link.
	ErrSymlink = errors.New("is a symbolic link")
	// ErrNotRegular: the file is a FIFO, a device, a socket or a folder.
	ErrNotRegular = errors.New("not a regular file")
	// ErrOwner: an existing file in a folder another user controls does
	// not belong to the user it is opened for (or is a hard link).
	ErrOwner = errors.New("file another user controls")
)

// Reason says why a walk refused a folder or a link.
type Reason uint8

const (
	// OtherOwner: the folder belongs to neither root nor the caller (for
	// the last folder under Own: not to the caller).
	OtherOwner Reason = iota + 1
	// OthersWrite: its group or others may write the folder, and it is
	// not sticky (for the last folder under Own: at all).
	OthersWrite
	// OtherLink: a symbolic link that is not root's or the caller's, or
	// that sits in a folder others control.
	OtherLink
)

// UntrustedError is a walk's refusal of the first folder or link on the
// way that someone other than root and the caller controls. It carries
// what a caller needs to say what to fix; errors.Is matches it with
// ErrUntrustedLink (OtherLink) or ErrUntrustedFolder (the others).
type UntrustedError struct {
	Path   string // the folder or the link, by the path walked to it
	UID    uint32 // its owner
	Perm   uint32 // a folder's permission bits, sticky included
	Reason Reason
	// Last: the folder asked for itself, judged by the Require rule's
	// last clause; otherwise one on the way to it.
	Last bool
	In   string // for a link: the folder it is in
}

func (e *UntrustedError) Error() string {
	switch e.Reason {
	case OtherLink:
		return fmt.Sprintf("%s: %v (owned by uid %d, in %s)", e.Path, ErrUntrustedLink, e.UID, e.In)
	case OtherOwner:
		return fmt.Sprintf("%s: %v (owned by uid %d)", e.Path, ErrUntrustedFolder, e.UID)
	}
	return fmt.Sprintf("%s: %v (mode %04o)", e.Path, ErrUntrustedFolder, e.Perm)
}

func (e *UntrustedError) Is(target error) bool {
	if e.Reason == OtherLink {
		return target == ErrUntrustedLink
	}
	return target == ErrUntrustedFolder
}
