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
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, fmt.Errorf("get termios fd %d: %w", fd, err)
	}
	saved := *old
	if _, err := term.MakeRaw(fd); err != nil {
		return nil, fmt.Errorf("make raw fd %d: %w", fd, err)
	}
	var mu sync.Mutex
	restore = func() error {
		mu.Lock()
		defer mu.Unlock()
		t := saved
		if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &t); err != nil {
			return fmt.Errorf("restore termios fd %d: %w", fd, err)
		}
		return nil
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

// SuspendProcess implements Ctrl-Z for a process that owns its terminal,
// for use as Config.Suspend = func() { SuspendProcess(fd, restore) }.
// It records fd's current (raw) settings, calls restore, stops
// the process group with SIGTSTP as the kernel would for Ctrl-Z in cooked
// mode, and once continued (fg, SIGCONT) puts the raw settings back. The
// process must not have asked os/signal for SIGTSTP, or it will not stop.
func SuspendProcess(fd int, restore func() error) error {
	raw, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return fmt.Errorf("suspend: get termios fd %d: %w", fd, err)
	}
	if err := restore(); err != nil {
		return fmt.Errorf("suspend: %w", err)
	}
	// kill(0, SIGTSTP) returns once the process has been continued.
	if err := unix.Kill(0, unix.SIGTSTP); err != nil {
		return fmt.Errorf("suspend: kill SIGTSTP: %w", err)
	}
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, raw); err != nil {
		return fmt.Errorf("suspend: set raw fd %d: %w", fd, err)
	}
	return nil
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
