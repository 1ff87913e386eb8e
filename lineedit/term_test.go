package lineedit

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	return ptmx, tty
}

func getTermios(t *testing.T, fd int) unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		t.Fatal(err)
	}
	return *tio
}

func TestMakeRawPTY(t *testing.T) {
	_, tty := openPTY(t)
	fd := int(tty.Fd())
	if !IsTerminal(fd) {
		t.Fatal("IsTerminal(pty) = false")
	}
	before := getTermios(t, fd)
	if before.Lflag&unix.ICANON == 0 || before.Iflag&unix.IXON == 0 {
		t.Fatalf("pty did not start cooked with IXON: %+v", before)
	}
	restore, err := MakeRaw(fd)
	if err != nil {
		t.Fatal(err)
	}
	raw := getTermios(t, fd)
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"IXON", raw.Iflag&unix.IXON != 0},
		{"ICRNL", raw.Iflag&unix.ICRNL != 0},
		{"ICANON", raw.Lflag&unix.ICANON != 0},
		{"ECHO", raw.Lflag&unix.ECHO != 0},
		{"ISIG", raw.Lflag&unix.ISIG != 0},
		{"IEXTEN", raw.Lflag&unix.IEXTEN != 0},
	} {
		if c.set {
			t.Errorf("%s still set in raw mode", c.name)
		}
	}
	if raw.Oflag&unix.OPOST == 0 || raw.Oflag&unix.ONLCR == 0 {
		t.Errorf("OPOST|ONLCR cleared: Oflag %#x", raw.Oflag)
	}
	if raw.Cc[unix.VMIN] != 1 || raw.Cc[unix.VTIME] != 0 {
		t.Errorf("VMIN %d VTIME %d", raw.Cc[unix.VMIN], raw.Cc[unix.VTIME])
	}
	for i := range 2 { // idempotent
		if err := restore(); err != nil {
			t.Fatalf("restore #%d: %v", i+1, err)
		}
		if after := getTermios(t, fd); after != before {
			t.Errorf("restore #%d: termios\n%+v\nwant\n%+v", i+1, after, before)
		}
	}
}

func TestIsTerminalPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(int(r.Fd())) {
		t.Error("IsTerminal(pipe) = true")
	}
	if _, err := MakeRaw(int(r.Fd())); err == nil {
		t.Error("MakeRaw(pipe) succeeded")
	}
}

// TestEditorOnPTY runs the editor on a real terminal in raw mode: keys
// typed on the master side, including Ctrl-C (ISIG off) and an arrow key,
// come back as the edited line.
func TestEditorOnPTY(t *testing.T) {
	ptmx, tty := openPTY(t)
	fd := int(tty.Fd())
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 20}); err != nil {
		t.Fatal(err)
	}
	restore, err := MakeRaw(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	go io.Copy(io.Discard, ptmx) // drain the screen so writes never block

	e, err := New(tty, tty, Config{Prompt: "> ", Width: WidthFunc(fd)})
	if err != nil {
		t.Fatal(err)
	}
	if w := WidthFunc(fd)(); w != 20 {
		t.Errorf("WidthFunc = %d, want 20", w)
	}
	type res struct {
		line string
		err  error
	}
	out := make(chan res, 1)
	go func() { l, err := e.ReadLine(); out <- res{l, err} }()
	if _, err := ptmx.Write([]byte("junk\x03sttus\x01\x1b[C\x1b[Ca\r")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-out:
		if r.line != "status" || r.err != nil {
			t.Errorf("ReadLine on pty = %q, %v; want \"status\"", r.line, r.err)
		}
	case <-time.After(testDeadline):
		t.Fatal("ReadLine on pty did not return")
	}
}
