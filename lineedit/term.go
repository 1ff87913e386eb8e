package lineedit

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// IsTerminal reports whether fd is a terminal. When it is not, read lines
// with bufio.Scanner instead of an Editor.
func IsTerminal(fd int) bool { return term.IsTerminal(fd) }

// SaveMode records fd's current settings and returns a function that
// re-applies exactly them, any number of times and from any goroutine.
// A caller that gives the terminal back for a while (job control) saves
// the raw settings this way to take them again later.
func SaveMode(fd int) (apply func() error, err error) {
	cur, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, fmt.Errorf("get termios fd %d: %w", fd, err)
	}
	saved := *cur
	var mu sync.Mutex
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		t := saved
		if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &t); err != nil {
			return fmt.Errorf("set termios fd %d: %w", fd, err)
		}
		return nil
	}, nil
}

// MakeRaw puts the terminal fd in raw mode for an Editor and returns a
// function that restores the exact previous settings. Restore may be
// called any number of times; each call re-applies the saved settings.
//
// It is term.MakeRaw (cfmakeraw(3)) with two guarantees spelled out:
//   - IXON is off, so Ctrl-S and Ctrl-Q reach the editor instead of
//     pausing output;
//   - OPOST and ONLCR stay on, so a stray "\n" written by other code
//     while the terminal is raw still returns the carriage. The Editor
//     always writes "\r\n", which ONLCR leaves as is in effect, and never
//     a bare "\n" to move the cursor, so its column arithmetic holds.
//
// ISIG is off: Ctrl-C, Ctrl-Z and Ctrl-\ arrive as bytes, and the Editor
// handles the first two (see Config.Suspend).
func MakeRaw(fd int) (restore func() error, err error) {
	restore, err = SaveMode(fd)
	if err != nil {
		return nil, err
	}
	if _, err := term.MakeRaw(fd); err != nil {
		return nil, fmt.Errorf("make raw fd %d: %w", fd, err)
	}
	raw, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err == nil {
		raw.Iflag &^= unix.IXON
		raw.Oflag |= unix.OPOST | unix.ONLCR
		err = unix.IoctlSetTermios(fd, ioctlSetTermios, raw)
	}
	if err != nil {
		restore()
		return nil, fmt.Errorf("make raw fd %d: %w", fd, err)
	}
	return restore, nil
}

// IsForeground reports whether the calling process's group is the
// foreground group of the terminal fd (tcgetpgrp(3) == getpgrp(2)). Only
// then may it change the terminal's settings without being stopped by
// SIGTTOU, or read it without SIGTTIN.
func IsForeground(fd int) bool {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// WidthFunc returns a Config.Width that asks the terminal fd for its size,
// reporting 0 (keep the last width) when it cannot.
func WidthFunc(fd int) func() int {
	return func() int {
		w, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return w
	}
}
