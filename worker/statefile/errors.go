package statefile

import "errors"

var (
	// ErrSuperseded: a state file belongs to a newer writer (a higher
	// generation) and was left alone.
	ErrSuperseded = errors.New("a newer writer owns the state file")
	// ErrBusy: the state folder's lock stayed taken.
	ErrBusy = errors.New("state folder busy")
)
