package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/lineedit"
)

// terminal is an interactive shell's terminal: raw mode, the line editor,
// and the goroutines that keep it in step with window size, job control
// and events. Close restores the terminal exactly; it is safe to call more
// than once and from any goroutine.
type terminal struct {
	in      *os.File
	ed      *lineedit.Editor
	width   func() int
	restore func() error // the settings found at start
	raw     func() error // raw mode again, after a stop
	events  chan string
	winch   chan os.Signal
	// jobctl gets SIGTSTP and SIGCONT, apart from SIGWINCH: a burst of
	// resizes must not crowd out a stop (signal.Notify drops what does
	// not fit), or suspend would wait for ever.
	jobctl chan os.Signal
	// resumed gets a token each time raw mode is back after SIGCONT, for
	// a Ctrl-Z typed in the editor to wait on.
	resumed chan struct{}
	once    sync.Once
	// mode orders the changes of terminal settings: a SIGCONT handled
	// while Close runs must not make the terminal raw again after it.
	mode   sync.Mutex
	closed atomic.Bool
	// hold keeps event lines back while a job's terminal is attached:
	// they would land in the middle of its screen.
	hold sync.Mutex
}

// openTerminal starts an editor on in (a terminal) and puts it in raw
// mode. A history file that cannot be used is no reason to refuse a
// shell (HOME=/nonexistent, as for nobody): who (the program's name)
// warns on stderr once and the shell runs without history.
func openTerminal(in, out *os.File, stderr io.Writer, who, prompt, history string, complete func(string, int) ([]string, int)) (*terminal, error) {
	fd := int(in.Fd())
	t := &terminal{in: in, width: lineedit.WidthFunc(fd), events: make(chan string, 256),
		winch: make(chan os.Signal, 1), jobctl: make(chan os.Signal, 4), resumed: make(chan struct{}, 1)}
	cfg := lineedit.Config{Prompt: prompt, Width: t.width, Complete: complete, HistoryFile: history, Suspend: t.suspend}
	var err error
	t.ed, err = lineedit.New(in, out, cfg)
	var herr *lineedit.HistoryError
	if errors.As(err, &herr) {
		fmt.Fprintf(stderr, "%s: warning: %v; running without history\n", who, herr)
		cfg.HistoryFile = ""
		t.ed, err = lineedit.New(in, out, cfg)
	}
	if err != nil {
		return nil, err
	}
	if t.restore, err = lineedit.MakeRaw(fd); err != nil {
		return nil, err
	}
	if t.raw, err = lineedit.SaveMode(fd); err != nil {
		t.restore()
		return nil, err
	}
	signal.Notify(t.winch, syscall.SIGWINCH)
	signal.Notify(t.jobctl, syscall.SIGTSTP, syscall.SIGCONT)
	go t.watchSignals()
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

// watchSignals follows the window's size and job control until Close.
func (t *terminal) watchSignals() {
	for {
		select {
		case _, ok := <-t.winch:
			if !ok {
				return
			}
			t.ed.SetWidth(t.width())
		case sig := <-t.jobctl:
			if sig == syscall.SIGTSTP {
				t.stop()
			} else {
				t.resume()
			}
		}
	}
}

// stop handles SIGTSTP (Ctrl-Z typed while the terminal was cooked, kill
// -TSTP, or suspend below): the terminal goes back to the settings found
// at start, so that the shell that continues us, or whoever uses the
// terminal meanwhile, gets a sane one; then the process stops. SIGSTOP
// does that, since SIGTSTP is caught. resume takes raw mode back.
func (t *terminal) stop() {
	if !stoppable() {
		return
	}
	t.mode.Lock()
	if !t.closed.Load() {
		t.restore()
	}
	t.mode.Unlock()
	unix.Kill(unix.Getpid(), unix.SIGSTOP)
}

// resume handles SIGCONT (fg, bg, kill -CONT): raw mode again and the
// line redrawn, when we own the terminal. A process continued in the
// background leaves the terminal alone: the editor's next read stops it
// (SIGTTIN) and the fg that follows continues it here again.
func (t *terminal) resume() {
	t.mode.Lock()
	if !t.closed.Load() && lineedit.IsForeground(int(t.in.Fd())) {
		t.raw()
		// A line the editor left for suspend is redrawn by the editor.
		t.ed.Redraw()
	}
	t.mode.Unlock()
	select {
	case t.resumed <- struct{}{}:
	default:
	}
}

// suspend is Ctrl-Z typed in the editor (raw mode: a byte, no signal). It
// does what the kernel does for Ctrl-Z in cooked mode, SIGTSTP to the
// whole foreground group (a pipeline's other commands too); ours comes
// back to stop. It returns once the process is continued in the
// foreground and raw again. Continued in the background (bg), it stops
// again with SIGTTIN, as reading the terminal would, rather than draw a
// prompt on the shell's screen; the fg that follows continues it.
func (t *terminal) suspend() {
	if !stoppable() {
		return
	}
	select {
	case <-t.resumed: // a SIGCONT that had no stop before it
	default:
	}
	if unix.Kill(0, unix.SIGTSTP) != nil {
		return
	}
	for {
		<-t.resumed
		if t.closed.Load() || lineedit.IsForeground(int(t.in.Fd())) {
			return
		}
		unix.Kill(unix.Getpid(), unix.SIGTTIN)
	}
}

// stoppable reports whether a job-control shell can continue us after a
// stop: our parent runs in our session but in another process group (the
// shell that made us a job). Otherwise the group is orphaned and, as the
// kernel does for terminal stop signals there (POSIX, "orphaned process
// group"), Ctrl-Z is ignored: nobody could ever type fg.
func stoppable() bool {
	ppid := unix.Getppid()
	sid, err := unix.Getsid(0)
	psid, perr := unix.Getsid(ppid)
	ppgrp, gerr := unix.Getpgid(ppid)
	return err == nil && perr == nil && gerr == nil && sid == psid && ppgrp != unix.Getpgrp()
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
		signal.Stop(t.winch)
		signal.Stop(t.jobctl)
		close(t.winch) // ends watchSignals: nothing is sent after Stop
		t.mode.Lock()
		t.closed.Store(true)
		t.restore()
		t.mode.Unlock()
		t.ed.Close()
		// A suspend waiting for a SIGCONT that Close made moot.
		select {
		case t.resumed <- struct{}{}:
		default:
		}
	})
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
