package safepath

import "errors"

var (
	// ErrUntrustedLink: a symbolic link on the way that the caller may not
	// follow (in a folder another user can write, or owned by another user).
	ErrUntrustedLink = errors.New("symbolic link another user controls")
	// ErrSymlink: the file itself is a symbolic link.
	ErrSymlink = errors.New("is a symbolic link")
	// ErrNotRegular: the file is a FIFO, a device, a socket or a folder.
	ErrNotRegular = errors.New("not a regular file")
	// ErrOwner: an existing file in a folder another user controls does
	// not belong to the user it is opened for (or is a hard link).
	ErrOwner = errors.New("file another user controls")
)
