package lineedit

import "errors"

var (
	// ErrClosed is returned by ReadLine after Close.
	ErrClosed = errors.New("lineedit: editor closed")
	// ErrBusy is returned by ReadLine when another ReadLine is in progress.
	ErrBusy = errors.New("lineedit: ReadLine already in progress")
)

// HistoryError is New's error when the history file cannot be read or
// created. The Editor works without a file: a caller may retry with
// Config.HistoryFile "" rather than refuse to run.
type HistoryError struct {
	Path string
	Err  error // names Path and the operation
}

func (e *HistoryError) Error() string { return e.Err.Error() }
func (e *HistoryError) Unwrap() error { return e.Err }
