package command

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/master"
)

// LineReader never takes a long line for the end of input: it drops it
// whole, says so, and reads on.
func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", MaxLine+1)
	limit := strings.Repeat("y", MaxLine)
	in := "status\r\n" + long + "\n" + limit + "\n\n" + strings.Repeat("z", 3*MaxLine) + "\nversion"
	next := LineReader(strings.NewReader(in))
	want := []struct {
		line string
		err  error
	}{
		{"status", nil}, {"", master.ErrLineTooLong}, {limit, nil}, {"", nil},
		{"", master.ErrLineTooLong}, {"version", nil}, {"", io.EOF}, {"", io.EOF},
	}
	for i, w := range want {
		line, err := next()
		if line != w.line || !errors.Is(err, w.err) || (w.err == nil && err != nil) {
			t.Fatalf("line %d: %.20q, %v; want %.20q, %v", i, line, err, w.line, w.err)
		}
	}
}

// Session prints the error line for a line too long and goes on.
func TestSessionLineTooLong(t *testing.T) {
	in := "a\n" + strings.Repeat("x", MaxLine+10) + "\nb\n"
	var out strings.Builder
	var ran []string
	eof := false
	Session(LineReader(strings.NewReader(in)), &out, func(args []string) bool {
		ran = append(ran, args[0])
		return false
	}, func() { eof = true })
	if strings.Join(ran, ",") != "a,b" || !eof {
		t.Fatalf("ran %v, eof %v", ran, eof)
	}
	want := "ERROR (line too long): 1048586 bytes, more than 1048576: ignored\n"
	if out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
}
