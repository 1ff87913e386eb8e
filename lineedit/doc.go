// Package lineedit is the line editor of taskmaster's control shell: it
// reads one line at a time from a terminal in raw mode, with emacs-style
// editing keys, persistent history, incremental reverse search (Ctrl-R),
// Tab completion, and asynchronous event lines printed above the prompt.
//
// It follows golang.org/x/term's Terminal: the Editor works over an
// io.Reader and an io.Writer, and key decoding (DecodeKey) is a pure
// function of the bytes read.
//
// Invariants:
//
//   - The caller owns the terminal mode. It calls MakeRaw before ReadLine
//     and the returned restore function after, and when it hands the
//     terminal to someone else. The Editor never changes terminal settings.
//   - The Editor reads from its input only while ReadLine runs and only
//     when it needs bytes; when ReadLine returns a line no Read is in
//     flight, so the terminal can be lent out between calls.
//   - Every write to the output happens under one mutex, in one Write call
//     per screen update, so event lines from PrintAbove never split an
//     escape sequence or a redraw.
//   - The screen cursor's position relative to the prompt is tracked at all
//     times, counting double-width and zero-width characters and wrapping
//     at the terminal width; the Editor moves only with relative CSI
//     sequences and erases with ESC[J, never with absolute positions
//     (except Ctrl-L, which clears the whole screen).
//
// What it does not do: read from a non-terminal (use bufio.Scanner; see
// IsTerminal), handle signals (the caller calls SetWidth on SIGWINCH and
// supplies Config.Suspend for Ctrl-Z), multi-line prompts, bracketed
// paste, undo, or colour. Prompts may contain SGR escape sequences, which
// are not counted in their width.
package lineedit
