package lineedit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// waitUntil polls cond until it holds or the test deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNoReadAfterLine checks the lending contract: once ReadLine returns a
// line, nothing reads the terminal until the next ReadLine.
func TestNoReadAfterLine(t *testing.T) {
	in := newFakeInput(100)
	e, err := New(in, new(syncWriter), Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.out.(*syncWriter).vt = newVT(80, 24)
	in.feed("ls\rps\r")
	for _, want := range []string{"ls", "ps"} {
		line, err := e.ReadLine()
		if line != want || err != nil {
			t.Fatalf("ReadLine = %q, %v; want %q", line, err, want)
		}
		if _, active := in.stats(); active != 0 {
			t.Fatalf("a Read is in flight after ReadLine returned %q", line)
		}
	}
	// Close unblocks a ReadLine waiting for input; later calls fail too.
	res := make(chan error, 1)
	go func() { _, err := e.ReadLine(); res <- err }()
	waitUntil(t, "ReadLine to read", func() bool { _, a := in.stats(); return a == 1 })
	if _, err := e.ReadLine(); !errors.Is(err, ErrBusy) {
		t.Errorf("concurrent ReadLine: %v, want ErrBusy", err)
	}
	e.Close()
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("ReadLine after Close: %v", err)
		}
	case <-time.After(testDeadline):
		t.Fatal("Close did not unblock ReadLine")
	}
	if _, err := e.ReadLine(); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadLine after Close: %v", err)
	}
	in.close() // ends the Read still in flight
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("EIO") }

func TestWriteErrorEndsReadLine(t *testing.T) {
	e, err := New(strings.NewReader("abc"), failWriter{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReadLine(); err == nil || err.Error() != "EIO" {
		t.Errorf("ReadLine with failing output: %v", err)
	}
}

func TestLayout(t *testing.T) {
	for _, tt := range []struct {
		prompt string
		line   string
		cols   int
		row    int
		col    int
		margin bool
	}{
		{"> ", "abc", 80, 0, 5, false},
		{"> ", "abcdefgh", 10, 1, 0, true},
		{"> ", "abcdefghi", 10, 1, 1, false},
		{"> ", "abcdefg世", 10, 1, 2, false},      // wide char wraps early
		{"> ", "abcdef世", 10, 1, 0, true},        // wide char fills the row
		{"> ", "e\u0301\u0301", 10, 0, 3, false}, // marks are zero width
		{"\x1b[1;32m>\x1b[0m ", "ab", 80, 0, 4, false},
		{"", "", 10, 0, 0, false},
		{"> ", strings.Repeat("x", 28), 10, 3, 0, true},
	} {
		c, m := layout(tt.prompt, []rune(tt.line), len([]rune(tt.line)), tt.cols)
		if c.row != tt.row || c.col != tt.col || m != tt.margin {
			t.Errorf("layout(%q, %q, %d) = %v %v, want {%d %d} %v", tt.prompt, tt.line, tt.cols, c, m, tt.row, tt.col, tt.margin)
		}
	}
}

func TestRuneWidth(t *testing.T) {
	for r, want := range map[rune]int{
		'a': 1, 'é': 1, '\u0301': 0, '\u20dd': 0 /* Me */, '\u200d': 0 /* ZWJ, Cf */, '\ufe0f': 0,
		'世': 2, '界': 2, 'ｆ': 2, '한': 2, '😀': 2, '🚀': 2, '⌚': 2, 'ア': 2,
		'ｱ': 1 /* halfwidth katakana */, '→': 1, '€': 1, '\u1160': 0, 0x20000: 2,
	} {
		if got := runeWidth(r); got != want {
			t.Errorf("runeWidth(%U) = %d, want %d", r, got, want)
		}
	}
	for i := 1; i < len(wideTable); i++ {
		if wideTable[i-1].hi >= wideTable[i].lo || wideTable[i].lo > wideTable[i].hi {
			t.Errorf("wideTable not sorted at %U", wideTable[i].lo)
		}
	}
}

// TestAddHistoryWhileReading: an entry added by the caller during a
// ReadLine is reachable with Up, and the line being typed comes back.
func TestAddHistoryWhileReading(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 80)
	h.typeKeys("x")
	h.e.AddHistory("restart web")
	h.typeKeys("\x1b[A")
	if line, _ := h.state(); line != "restart web" {
		t.Errorf("Up = %q", line)
	}
	h.typeKeys("\x1b[B")
	if line, _ := h.state(); line != "x" {
		t.Errorf("Down = %q", line)
	}
}
