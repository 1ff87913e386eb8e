package lineedit

import "errors"

var (
	// ErrClosed is returned by ReadLine after Close.
	ErrClosed = errors.New("lineedit: editor closed")
	// ErrBusy is returned by ReadLine when another ReadLine is in progress.
	ErrBusy = errors.New("lineedit: ReadLine already in progress")
)
