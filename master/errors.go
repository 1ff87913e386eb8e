package master

import (
	"errors"
	"fmt"
)

// The kinds of error the control API returns. Callers test them with
// errors.Is; an *Error carries one of them as its Kind with a detail (the
// name, the reason), and the faces (shell, ctl, XML-RPC) turn the kind
// into their own text or fault code. Each comment says when it is
// returned.
var (
	// ErrNoSuchProcess: a NAME matches no process.
	ErrNoSuchProcess = errors.New("no such process")
	// ErrBadName: a NAME is malformed, or names a program that is not in
	// the config file (AddProgram).
	ErrBadName = errors.New("bad name")
	// ErrBadArguments: an operation on one process got a NAME that
	// names several, or arguments it does not take.
	ErrBadArguments = errors.New("bad arguments")
	// ErrAlreadyStarted: start of a process that is STARTING, RUNNING or
	// BACKOFF (supervisor's RUNNING_STATES).
	ErrAlreadyStarted = errors.New("already started")
	// ErrNotRunning: stop or signal of a process that has no job.
	ErrNotRunning = errors.New("not running")
	// ErrStopping: start of a process that is still STOPPING.
	ErrStopping = errors.New("still stopping")
	// ErrSpawn: a start ended in BACKOFF or FATAL because no job could be
	// made (the worker's set-up or the exec failed).
	ErrSpawn = errors.New("spawn error")
	// ErrAbnormal: a start ended because the job exited before starttime.
	ErrAbnormal = errors.New("abnormal termination")
	// ErrBadSignal: a signal name or number that is not one.
	ErrBadSignal = errors.New("bad signal name")
	// ErrShuttingDown: the master is shutting down or gone; nothing was
	// done.
	ErrShuttingDown = errors.New("shutting down")
	// ErrNoLog: a log to read does not exist or cannot be opened.
	ErrNoLog = errors.New("no log")
	// ErrNoOutput: a stream discarded to no file and no worker keeps it.
	ErrNoOutput = errors.New("no output kept")
	// ErrNotTTY: attach to a program without tty: true.
	ErrNotTTY = errors.New("not a tty program")
	// ErrNoAnswer: a worker did not answer in time.
	ErrNoAnswer = errors.New("no answer from the worker")
	// ErrFailed: an operation failed for the reason in the detail (a
	// file that cannot be truncated, a worker's own error).
	ErrFailed = errors.New("failed")
	// ErrAlreadyAdded: AddProgram of a program that is active.
	ErrAlreadyAdded = errors.New("already added")
	// ErrStillRunning: RemoveProgram of a program with a process that is
	// not stopped.
	ErrStillRunning = errors.New("still running")
	// ErrConfig: the config file could not be read or has errors
	// (errors.As on config.Errors gives each); nothing changed.
	ErrConfig = errors.New("config has errors")
	// ErrLineTooLong: a command line longer than MaxLine.
	ErrLineTooLong = errors.New("line too long")
	// ErrTransition: a move the state table forbids (a bug, logged).
	ErrTransition = errors.New("invalid transition")
	// ErrLocked: another master holds the rundir.
	ErrLocked = errors.New("another taskmaster is running")
)

// Error is the API's error: a Kind (one of the Err variables above) and a
// Detail, printed by the faces as `ERROR (kind): detail`, supervisorctl's
// shape. errors.Is(err, kind) holds for it; Unwrap gives the cause, if any.
type Error struct {
	Kind   error
	Detail string
	Cause  error
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Detail
}

// Is makes an *Error match its Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

func (e *Error) Unwrap() error { return e.Cause }

// fail makes an *Error of kind with a detail.
func fail(kind error, detail string) *Error { return &Error{Kind: kind, Detail: detail} }

// noSuchProcess is the error for a NAME that matches nothing.
func noSuchProcess(name string) error { return fail(ErrNoSuchProcess, name) }

// ErrorText formats an API error as the shell prints a command's error:
// `ERROR (kind): detail`, or `ERROR (text)` for an error of no kind.
func ErrorText(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		if e.Detail == "" {
			return fmt.Sprintf("ERROR (%s)", e.Kind)
		}
		return fmt.Sprintf("ERROR (%s): %s", e.Kind, e.Detail)
	}
	return fmt.Sprintf("ERROR (%v)", err)
}

// Reason is err's short form in a per-process result line (`NAME: ERROR
// (reason)`, as supervisorctl prints them): the kind, or the detail for
// ErrFailed and ErrConfig, whose detail is the reason.
func Reason(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		if (e.Kind == ErrFailed || e.Kind == ErrConfig) && e.Detail != "" {
			return e.Detail
		}
		return e.Kind.Error()
	}
	return err.Error()
}
