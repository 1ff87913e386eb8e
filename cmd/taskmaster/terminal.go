package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/lineedit"
)

// terminal is an interactive shell's terminal: raw mode, the line editor,
// and the goroutines that keep it in step with window size and events.
// Close restores the terminal exactly; it is safe to call more than once
// and from any goroutine.
type terminal struct {
	in      *os.File
	ed      *lineedit.Editor
	restore func() error
	events  chan string
	winch   chan os.Signal
	once    sync.Once
	closed  atomic.Bool
	// hold keeps event lines back while a job's terminal is attached:
	// they would land in the middle of its screen.
	hold sync.Mutex
}

// openTerminal puts in (a terminal) in raw mode and starts an editor.
func openTerminal(in, out *os.File, prompt, history string, complete func(string, int) ([]string, int)) (*terminal, error) {
	fd := int(in.Fd())
	restore, err := lineedit.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	t := &terminal{in: in, restore: restore, events: make(chan string, 256), winch: make(chan os.Signal, 1)}
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
			t.hold.Lock()
			if !t.closed.Load() {
				t.ed.PrintAbove(line)
			}
			t.hold.Unlock()
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

// follows reports whether a command runs until interrupted (tail -f,
// events).
func follows(args []string) bool {
	return args[0] == "events" || ((args[0] == "tail" || args[0] == "maintail") && slices.Contains(args[1:], "-f"))
}

// interruptible runs a command with a context that Ctrl-C cancels. The
// editor reads nothing between lines, so while the command runs the
// terminal is watched here instead (keys other than Ctrl-C are dropped,
// as in a pager). Only commands that run until interrupted use it, so no
// key typed after an ordinary command is lost.
func (t *terminal) interruptible(run func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wake [2]int
	if err := unix.Pipe2(wake[:], unix.O_CLOEXEC); err != nil {
		run(ctx)
		return
	}
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		fd := int(t.in.Fd())
		buf := make([]byte, 64)
		for {
			fds := []unix.PollFd{{Fd: int32(wake[0]), Events: unix.POLLIN}, {Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
				return
			}
			if fds[0].Revents != 0 {
				return // the command is over: leave the terminal to the editor
			}
			if fds[1].Revents&unix.POLLIN != 0 {
				n, _ := unix.Read(fd, buf)
				if bytes.IndexByte(buf[:max(n, 0)], 0x03) >= 0 {
					cancel()
				}
			}
		}
	}()
	run(ctx)
	unix.Write(wake[1], []byte{0})
	<-watched
	unix.Close(wake[0])
	unix.Close(wake[1])
}

// attach runs an attach session on this terminal (already raw). dial
// connects to the job's worker through the master.
func (t *terminal) attach(out io.Writer, dial func(rows, cols uint16) (*ipc.Conn, error)) {
	t.hold.Lock()
	defer t.hold.Unlock()
	rows, cols := winsize(t.in)
	conn, err := dial(rows, cols)
	if err == nil {
		var msg string
		if msg, err = attachSession(conn, t.in, out); err == nil {
			fmt.Fprintf(out, "\r\n%s\r\n", msg)
			return
		}
	}
	fmt.Fprintln(out, err)
}
