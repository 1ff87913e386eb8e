package main

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/taskmaster/taskmaster/lineedit"
)

// terminal is an interactive shell's terminal: raw mode, the line editor,
// and the goroutines that keep it in step with window size and events.
// Close restores the terminal exactly; it is safe to call more than once
// and from any goroutine.
type terminal struct {
	ed      *lineedit.Editor
	restore func() error
	events  chan string
	winch   chan os.Signal
	once    sync.Once
	closed  atomic.Bool
}

// openTerminal puts in (a terminal) in raw mode and starts an editor.
func openTerminal(in, out *os.File, prompt, history string, complete func(string, int) ([]string, int)) (*terminal, error) {
	fd := int(in.Fd())
	restore, err := lineedit.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	t := &terminal{restore: restore, events: make(chan string, 256), winch: make(chan os.Signal, 1)}
	width := lineedit.WidthFunc(fd)
	t.ed, err = lineedit.New(in, out, lineedit.Config{
		Prompt: prompt, Width: width, Complete: complete, HistoryFile: history,
		// Ctrl-Z: cooked mode, stop, and raw again on SIGCONT.
		Suspend: func() { lineedit.SuspendProcess(fd, restore) },
	})
	if err != nil {
		restore()
		return nil, err
	}
	signal.Notify(t.winch, syscall.SIGWINCH)
	go func() {
		for range t.winch {
			t.ed.SetWidth(width())
		}
	}()
	go func() {
		for line := range t.events {
			if !t.closed.Load() {
				t.ed.PrintAbove(line)
			}
		}
	}()
	return t, nil
}

// Event queues an event line to print above the prompt. It never blocks:
// the master's loop calls it, and a terminal that does not drain must not
// stall supervision. Lines beyond the queue are dropped.
func (t *terminal) Event(line string) {
	select {
	case t.events <- line:
	default:
	}
}

// Close restores the terminal's settings.
func (t *terminal) Close() {
	t.once.Do(func() {
		t.closed.Store(true)
		signal.Stop(t.winch)
		t.ed.Close()
		t.restore()
	})
}
