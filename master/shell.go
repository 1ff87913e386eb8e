package master

import (
	"bufio"
	"fmt"
	"io"

	"github.com/taskmaster/taskmaster/config"
)

// IsExit reports whether a command line ends a shell session.
func IsExit(args []string) bool {
	if len(args) == 0 {
		return false
	}
	c, ok := lookup(args[0])
	return ok && c.name == "shutdown"
}

// ReadCommands runs commands read line by line from in (a pipe or a file:
// no prompt, no editing) until EOF, which means shutdown, or until a
// command shuts the master down.
func (s *Supervisor) ReadCommands(in io.Reader, out io.Writer) {
	Session(LineReader(in), out, func(args []string) bool {
		s.Exec(args, out)
		return IsExit(args)
	}, func() { s.Exec([]string{"shutdown"}, out) })
}

// Session runs the command lines next returns until run says to leave,
// or until next fails (EOF, Ctrl-D), when it calls eof. Every shell and
// ctl's line mode use it. Lines split like a shell's; one that does not
// split gets an error line, an empty one nothing.
func Session(next func() (string, error), out io.Writer, run func(args []string) (leave bool), eof func()) {
	for {
		line, err := next()
		if err != nil {
			eof()
			return
		}
		args, err := config.SplitCommand(line)
		if err != nil {
			fmt.Fprintf(out, "ERROR (bad command line): %v\n", err)
			continue
		}
		if len(args) > 0 && run(args) {
			return
		}
	}
}

// LineReader returns in's lines one by one, for Session; io.EOF at the end.
func LineReader(in io.Reader) func() (string, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return func() (string, error) {
		if sc.Scan() {
			return sc.Text(), nil
		}
		if err := sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
}
