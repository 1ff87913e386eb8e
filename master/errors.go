package master

import (
	"errors"
	"fmt"
)

var (
	ErrAlreadyStarted = errors.New("already started")
	ErrNotRunning     = errors.New("not running")
	ErrStopping       = errors.New("still stopping")
	ErrNoSuchProcess  = errors.New("no such process")
	ErrTransition     = errors.New("invalid transition")
	ErrLocked         = errors.New("another taskmaster is running")
	ErrLineTooLong    = errors.New("line too long")
)

// refusal is what a command will not do, printed as
// `ERROR (reason): detail`, supervisorctl's shape.
type refusal struct{ reason, detail string }

func (r refusal) Error() string { return r.reason + ": " + r.detail }

// Is makes a refusal match the sentinel of its reason.
func (r refusal) Is(target error) bool {
	return (target == ErrNoSuchProcess || target == ErrLineTooLong) && r.reason == target.Error()
}

// noSuchProcess is the error for a NAME that matches nothing.
func noSuchProcess(name string) error { return refusal{"no such process", name} }

// ErrorText formats a command's error as the shell prints it.
func ErrorText(err error) string {
	if r, ok := errors.AsType[refusal](err); ok {
		return fmt.Sprintf("ERROR (%s): %s", r.reason, r.detail)
	}
	return fmt.Sprintf("ERROR (%v)", err)
}
