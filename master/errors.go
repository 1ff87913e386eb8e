package master

import "errors"

var (
	ErrAlreadyStarted = errors.New("already started")
	ErrNotRunning     = errors.New("not running")
	ErrStopping       = errors.New("still stopping")
	ErrNoSuchProcess  = errors.New("no such process")
	ErrTransition     = errors.New("invalid transition")
	ErrLocked         = errors.New("another taskmaster is running")
)
