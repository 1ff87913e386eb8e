package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/lineedit"
	"github.com/taskmaster/taskmaster/master"
	"github.com/taskmaster/taskmaster/master/command"
)

func runCtl(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("ctl", stderr)
	cfgPath := fs.String("c", "", "config file")
	sock := fs.String("s", "", "control socket")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	history := defaultHistory()
	if *sock == "" {
		var ok bool
		if *sock, history, ok = ctlSocket(findConfig(*cfgPath), stderr); !ok {
			return exitFailure
		}
	}
	// Without a terminal, or without just one NAME, attach runs as any
	// command: the master answers the error attaching would have met (no
	// such process, not a tty program, usage), else that it needs one.
	if in, ok := stdin.(*os.File); ok && isTerminal(in) && command.IsAttach(fs.Args()) {
		return ctlAttach(*sock, fs.Args(), in, stdout, stderr)
	}
	if fs.NArg() > 0 {
		code, err := ctlCommand(*sock, fs.Args(), stdout)
		if err != nil {
			fmt.Fprintf(stderr, "taskmaster ctl: %v\n", err)
			return exitFailure
		}
		return code
	}
	if in, ok := stdin.(*os.File); ok && isTerminal(in) {
		return ctlTerminal(*sock, history, in, stdout.(*os.File), stderr)
	}
	return ctlShell(*sock, stdin, stdout, stderr)
}

// ctlSocket finds the master's socket (and the history file) from the
// config at path. Only the socket is needed, so the file is read as
// leniently as it can be: its errors are for the master to report
// (reload, reread), and a file broken while the master runs must not
// lock ctl out. When the file has errors and the socket found does not
// answer, ctl says which socket it tried and how to name the right one;
// ok is then false. A plain file's socket is read without parsing the
// programs (config.QuickGlobal): the same socket the full read finds,
// from a section without errors, so it is used as such.
func ctlSocket(path string, stderr io.Writer) (sock, history string, ok bool) {
	if g, ok := config.QuickGlobal(path); ok {
		return g.Socket, g.History, true
	}
	g, cfgErr := config.ControlGlobal(path)
	if g == nil {
		printConfigError(stderr, cfgErr)
		return "", "", false
	}
	if cfgErr == nil {
		return g.Socket, g.History, true
	}
	uc, err := dial(g.Socket)
	if err == nil {
		uc.Close()
		return g.Socket, g.History, true
	}
	printConfigError(stderr, cfgErr)
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = errno
	}
	why := "cannot be read, so ctl tried the default socket"
	if errs := (config.Errors{}); errors.As(cfgErr, &errs) {
		why = "has errors, so the socket read from it may not be the master's: tried"
	}
	fmt.Fprintf(stderr, "taskmaster ctl: %s %s %s (%v); pass the master's socket with -s SOCKET\n", path, why, g.Socket, err)
	return "", "", false
}

// ctlTerminal is the remote interactive shell: the same editor as the
// master's, commands run on the master one by one. exit, quit and Ctrl-D
// leave the client; shutdown stops the master.
func ctlTerminal(sock, history string, in, out *os.File, stderr io.Writer) int {
	names := func() []string {
		// The master's typed answer (status --json), not a table's text.
		var b strings.Builder
		if _, err := ctlCommand(sock, []string{"status", "--json"}, &b); err != nil {
			return nil
		}
		var infos []master.ProcessInfo
		if json.Unmarshal([]byte(b.String()), &infos) != nil {
			return nil
		}
		procs := make([]string, len(infos))
		for i, in := range infos {
			procs[i] = in.Name
		}
		return command.NameCandidates(procs)
	}
	term, err := openTerminal(in, out, stderr, "taskmaster ctl", prompt, history, completer(names))
	if err != nil {
		fmt.Fprintf(stderr, "taskmaster ctl: terminal: %v\n", err)
		return exitFailure
	}
	defer term.Close()
	// Ctrl-C is a key that clears the line here; a SIGINT (kill, or a
	// terminal left cooked) must not kill the client and leave it raw.
	signal.Ignore(syscall.SIGINT)
	defer signal.Reset(syscall.SIGINT)
	// Event lines, as in the master's own shell, from a second connection.
	events, stopEvents := context.WithCancel(context.Background())
	defer stopEvents()
	go ctlCommandContext(events, sock, []string{"events"}, &lineSplitter{emit: term.Event})
	code := exitOK
	editLoop(term, out, remote(sock, term, out, stderr, &code), func() {})
	return code
}

// ctlShell reads commands line by line and runs each remotely. exit, quit
// and EOF leave the client; shutdown stops the master.
func ctlShell(sock string, stdin io.Reader, stdout, stderr io.Writer) int {
	code := exitOK
	command.Session(command.LineReader(stdin), stdout, remote(sock, nil, stdout, stderr, &code), func() {})
	return code
}

// remote runs one command line of a ctl shell on the master; it returns
// true when the client should leave. With a terminal, attach and commands
// that follow (tail -f, events) run interactively. code gets the exit
// code of the last command.
func remote(sock string, term *terminal, out, stderr io.Writer, code *int) func(args []string) bool {
	return func(args []string) bool {
		if args[0] == "exit" || args[0] == "quit" {
			return true
		}
		if term != nil && command.IsAttach(args) {
			term.attach(out, func(rows, cols uint16) (*ipc.Conn, error) {
				return dialAttach(sock, args, rows, cols)
			})
			return false
		}
		var c int
		var err error
		if term != nil && command.Follows(args) {
			term.interruptible(func(ctx context.Context) { c, err = ctlCommandContext(ctx, sock, args, out) })
		} else {
			c, err = ctlCommand(sock, args, out)
		}
		if err != nil {
			fmt.Fprintf(stderr, "taskmaster ctl: %v\n", err)
			*code = exitFailure
			return true
		}
		*code = c
		return command.IsExit(args)
	}
}

// ctlCommand runs one command on the master and copies its output.
func ctlCommand(sock string, args []string, out io.Writer) (int, error) {
	return ctlCommandContext(context.Background(), sock, args, out)
}

// ctlCommandContext is ctlCommand that hangs up when ctx is done (Ctrl-C
// on `tail -f`); the master sees the client leave and ends the command.
func ctlCommandContext(ctx context.Context, sock string, args []string, out io.Writer) (int, error) {
	uc, err := dial(sock)
	if err != nil {
		return exitFailure, explainDial(sock, err)
	}
	conn := ipc.NewConn(uc)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := conn.Send(&ipc.Request{Args: args}, 5*time.Second); err != nil {
		// A master that refuses us says why, then hangs up before our
		// request: show its answer rather than the broken pipe.
		conn.SetReadDeadline(time.Now().Add(time.Second))
		if code, ok := readAnswer(conn, out); ok {
			return code, nil
		}
		return exitFailure, err
	}
	return copyAnswer(ctx, conn, out)
}

// readAnswer reads an answer already sent; ok is false if there was none.
func readAnswer(conn *ipc.Conn, out io.Writer) (int, bool) {
	code, err := copyAnswer(context.Background(), conn, out)
	return code, err == nil
}

// copyAnswer copies Output packets to out until Done.
func copyAnswer(ctx context.Context, conn *ipc.Conn, out io.Writer) (int, error) {
	for {
		m, files, err := conn.Recv()
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(out)
				return exitOK, nil // interrupted by the user
			}
			return exitFailure, fmt.Errorf("the master closed the connection before answering: %w", err)
		}
		switch m := m.(type) {
		case *ipc.Output:
			io.WriteString(out, m.Data)
		case *ipc.Done:
			return m.Code, nil
		default:
			return exitFailure, fmt.Errorf("unexpected %s from the master", m.Kind())
		}
	}
}

// dial connects to the master's control socket.
func dial(sock string) (*net.UnixConn, error) {
	return net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: sock, Net: "unixpacket"})
}

func explainDial(sock string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no taskmaster is running on %s (start one with: taskmaster -c FILE)", sock)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("permission denied on %s: only root and the master's own user may control it", sock)
	}
	return fmt.Errorf("connect %s: %w", sock, err)
}

// dialAttach asks the master to attach; on success the returned
// connection leads to the job's worker.
func dialAttach(sock string, args []string, rows, cols uint16) (*ipc.Conn, error) {
	uc, err := dial(sock)
	if err != nil {
		return nil, explainDial(sock, err)
	}
	conn := ipc.NewConn(uc)
	if err := conn.Send(&ipc.Request{Args: args, Attach: true, Rows: rows, Cols: cols}, 5*time.Second); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// ctlAttach is `taskmaster ctl attach NAME` on a terminal: the terminal
// goes raw for the session and comes back as it was.
func ctlAttach(sock string, args []string, in *os.File, stdout, stderr io.Writer) int {
	restore, err := lineedit.MakeRaw(int(in.Fd()))
	if err != nil {
		fmt.Fprintf(stderr, "taskmaster ctl: terminal: %v\n", err)
		return exitFailure
	}
	rows, cols := winsize(in)
	conn, err := dialAttach(sock, args, rows, cols)
	var msg string
	if err == nil {
		msg, err = attachSession(conn, in, stdout)
	}
	restore()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "\n%s\n", msg)
	return exitOK
}

// defaultHistory is the history file when no config names one (ctl -s).
func defaultHistory() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".taskmaster_history")
	}
	return ""
}

// lineSplitter turns a byte stream into whole lines for emit.
type lineSplitter struct {
	emit    func(string)
	partial []byte
}

func (l *lineSplitter) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.emit(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
}
