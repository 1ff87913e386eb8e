package command

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master"
)

// ReadCommands runs commands read line by line from in (a pipe or a file:
// no prompt, no editing) until EOF, which means shutdown, or until a
// command shuts the master down.
func ReadCommands(s *master.Supervisor, in io.Reader, out io.Writer) {
	Session(LineReader(in), out, func(args []string) bool {
		Exec(context.Background(), s, args, out)
		return IsExit(args)
	}, func() { Exec(context.Background(), s, []string{"shutdown"}, out) })
}

// Session runs the command lines next returns until run says to leave,
// or until next fails (EOF, Ctrl-D), when it calls eof. Every shell and
// ctl's line mode use it. Lines split like a shell's; one that does not
// split, or that next refuses as too long, gets an error line, an empty
// one nothing.
func Session(next func() (string, error), out io.Writer, run func(args []string) (leave bool), eof func()) {
	for {
		line, err := next()
		if errors.Is(err, master.ErrLineTooLong) {
			fmt.Fprintln(out, master.ErrorText(err))
			continue
		}
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

// MaxLine is the longest command line LineReader returns, in bytes
// without the newline.
const MaxLine = 1 << 20

// LineReader returns in's lines one by one, for Session, without "\n" or
// "\r\n"; io.EOF at the end. A line longer than MaxLine is read to its
// end and dropped: its error is ErrLineTooLong and the next call reads
// the next line. Memory stays bounded by MaxLine whatever in holds.
func LineReader(in io.Reader) func() (string, error) {
	r := bufio.NewReaderSize(in, 64<<10)
	return func() (string, error) {
		var line []byte
		n := 0 // bytes of this line read so far, kept or not
		for {
			chunk, err := r.ReadSlice('\n')
			n += len(chunk)
			if n <= MaxLine+1 {
				line = append(line, chunk...)
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && (err != io.EOF || n == 0) {
				return "", err
			}
			if bytes.HasSuffix(chunk, []byte("\n")) {
				n--
			}
			if n > MaxLine {
				return "", &master.Error{Kind: master.ErrLineTooLong, Detail: fmt.Sprintf("%d bytes, more than %d: ignored", n, MaxLine)}
			}
			line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
			return string(line), nil
		}
	}
}
