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
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		args, err := config.SplitCommand(sc.Text())
		if err != nil {
			fmt.Fprintf(out, "ERROR (bad command line): %v\n", err)
			continue
		}
		s.Exec(args, out)
		if IsExit(args) {
			return
		}
	}
	s.Exec([]string{"shutdown"}, out)
}
