package lineedit

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// eachChunk runs fn with every read size from 1 byte to all of input.
func eachChunk(t *testing.T, input string, fn func(t *testing.T, chunk int)) {
	for chunk := 1; chunk <= max(1, len(input)); chunk++ {
		t.Run(fmt.Sprintf("chunk%d", chunk), func(t *testing.T) { fn(t, chunk) })
	}
}

var editTests = []struct {
	name string
	hist []string
	in   string
	line string
	pos  int // in runes
}{
	{"insert", nil, "abc", "abc", 3},
	{"left", nil, "abc\x1b[D\x1b[D", "abc", 1},
	{"ctrl-b", nil, "abc\x02X", "abXc", 3},
	{"ctrl-a", nil, "abc\x01X", "Xabc", 1},
	{"home CSI H", nil, "abc\x1b[HX", "Xabc", 1},
	{"home CSI 1~", nil, "abc\x1b[1~X", "Xabc", 1},
	{"home CSI 7~", nil, "abc\x1b[7~X", "Xabc", 1},
	{"home SS3 H", nil, "abc\x1bOHX", "Xabc", 1},
	{"ctrl-e", nil, "abc\x01\x05X", "abcX", 4},
	{"end CSI F", nil, "abc\x01\x1b[FX", "abcX", 4},
	{"end CSI 4~", nil, "abc\x01\x1b[4~X", "abcX", 4},
	{"end CSI 8~", nil, "abc\x01\x1b[8~X", "abcX", 4},
	{"end SS3 F", nil, "abc\x01\x1bOFX", "abcX", 4},
	{"ctrl-f", nil, "abc\x01\x06X", "aXbc", 2},
	{"right", nil, "abc\x01\x1b[CX", "aXbc", 2},
	{"right at end", nil, "abc\x1b[C", "abc", 3},
	{"left at start", nil, "abc\x01\x1b[D", "abc", 0},
	{"alt-b", nil, "foo bar\x1bb", "foo bar", 4},
	{"alt-b twice", nil, "foo bar\x1bb\x1bb", "foo bar", 0},
	{"alt-b punctuation", nil, "echo foo-bar\x1bb", "echo foo-bar", 9},
	{"ctrl-left", nil, "foo bar\x1b[1;5D", "foo bar", 4},
	{"alt-f", nil, "foo bar\x01\x1bf", "foo bar", 3},
	{"alt-f twice", nil, "foo bar\x01\x1bf\x1bf", "foo bar", 7},
	{"ctrl-right", nil, "foo bar\x01\x1b[1;5C", "foo bar", 3},
	{"backspace", nil, "abc\x7f", "ab", 2},
	{"ctrl-h", nil, "abc\x08", "ab", 2},
	{"backspace middle", nil, "abc\x02\x7f", "ac", 1},
	{"backspace at start", nil, "abc\x01\x7f", "abc", 0},
	{"delete", nil, "abc\x01\x1b[3~", "bc", 0},
	{"delete at end", nil, "abc\x1b[3~", "abc", 3},
	{"ctrl-d deletes", nil, "abc\x01\x04", "bc", 0},
	{"ctrl-k", nil, "hello world\x1bb\x0b", "hello ", 6},
	{"ctrl-u", nil, "hello world\x1bb\x15", "world", 0},
	{"ctrl-w", nil, "git commit -m\x17", "git commit ", 11},
	{"ctrl-w spaces", nil, "a b  \x17", "a ", 2},
	{"ctrl-w path", nil, "tail /var/log\x17", "tail ", 5},
	{"alt-d", nil, "foo bar baz\x01\x1bf\x1bd", "foo baz", 3},
	{"alt-backspace", nil, "foo bar\x1b\x7f", "foo ", 4},
	{"ctrl-y after ctrl-w", nil, "hello world\x17\x01\x19", "worldhello ", 5},
	{"ctrl-y twice", nil, "abc\x01\x0b\x19\x19", "abcabc", 6},
	{"ctrl-y empty", nil, "ab\x19", "ab", 2},
	{"ctrl-t end", nil, "abc\x14", "acb", 3},
	{"ctrl-t middle", nil, "abcd\x01\x06\x14", "bacd", 2},
	{"ctrl-t start", nil, "abc\x01\x14", "abc", 0},
	{"ctrl-t short", nil, "a\x14", "a", 1},
	{"utf8", nil, "héllo\x02\x02\x7f", "hélo", 2},
	{"combining left", nil, "e\u0301x\x02\x02", "e\u0301x", 0},
	{"combining backspace", nil, "ae\u0301\x7f", "a", 1},
	{"combining delete", nil, "e\u0301x\x01\x1b[3~", "x", 0},
	{"wide", nil, "世界\x02X", "世X界", 2},
	{"emoji", nil, "a😀b\x02\x02\x7f", "😀b", 0},
	{"ctrl-g idle", nil, "ab\x07", "ab", 2},
	{"unknown sequence", nil, "a\x1b[200~b\x1bOP", "ab", 2},
	{"ctrl-s ctrl-q", nil, "a\x13\x11b", "ab", 2},
	{"tab without completer", nil, "a\tb", "ab", 2},
	{"ctrl-l", nil, "ab\x02\x0c", "ab", 1},
	{"ctrl-c", nil, "abc\x03", "", 0},
	{"ctrl-z without hook", nil, "ab\x1a", "ab", 2},
	{"alt-unbound", nil, "a\x1bxb", "ab", 2},
	{"up", []string{"one", "two", "three"}, "\x1b[A", "three", 5},
	{"up up", []string{"one", "two", "three"}, "\x1b[A\x1b[A", "two", 3},
	{"ctrl-p past oldest", []string{"one", "two", "three"}, "\x10\x10\x10\x10", "one", 3},
	{"up down keeps line", []string{"one", "two"}, "x\x1b[A\x1b[A\x1b[B\x1b[B", "x", 1},
	{"ctrl-p ctrl-n", []string{"one", "two"}, "x\x10\x0e", "x", 1},
	{"down at newest", []string{"one"}, "x\x1b[B", "x", 1},
	{"ss3 up", []string{"one"}, "\x1bOA", "one", 3},
	{"up then edit", []string{"one"}, "\x1b[A\x7f", "on", 2},
	{"no history", nil, "\x1b[A\x0e", "", 0},
	{"search", []string{"start api", "stop db", "status web"}, "\x12sta", "", 0},
	{"search cancel", []string{"status web"}, "abc\x02\x12sta\x07", "abc", 2},
	{"search accept ctrl-a", []string{"stop db", "ls"}, "\x12db\x01", "stop db", 0},
	{"search accept right", []string{"stop db", "ls"}, "\x12db\x1b[C", "stop db", 6},
	{"search accept end insert", []string{"stop db"}, "\x12op\x05X", "stop dbX", 8},
	{"search again", []string{"start api", "stop db", "status web"}, "\x12sta\x12\x05", "start api", 9},
	{"search fails keeps match", []string{"start api", "status web"}, "\x12sta\x12\x12\x05", "start api", 9},
	{"search backspace", []string{"stat x", "start y"}, "\x12start\x7f\x7f\x05", "start y", 7},
	{"search then up", []string{"a1", "b2", "c3"}, "\x12b\x05\x1b[A", "a1", 2},
	{"search ctrl-c", []string{"stop db"}, "ab\x12st\x03", "", 0},
}

func TestEditKeys(t *testing.T) {
	for _, tt := range editTests {
		t.Run(tt.name, func(t *testing.T) {
			eachChunk(t, tt.in, func(t *testing.T, chunk int) {
				h := newHarness(t, Config{Prompt: "> "}, chunk, 80)
				for _, l := range tt.hist {
					h.e.AddHistory(l)
				}
				h.typeKeys(tt.in)
				line, pos := h.state()
				if line != tt.line || pos != tt.pos {
					t.Errorf("after %q: line %q pos %d, want %q pos %d", tt.in, line, pos, tt.line, tt.pos)
				}
				h.noResult()
				if !h.searching() {
					h.checkScreen(strings.Count(tt.in, "\x03"), "> ")
				}
			})
		})
	}
}

// TestExactOutput compares every byte written, at every read size.
func TestExactOutput(t *testing.T) {
	for _, tt := range []struct {
		name  string
		width int
		hist  []string
		in    string
		out   string
	}{
		{"insert middle", 80, nil, "ab\x1b[DX", "> ab\x1b[D\r\x1b[J> aXb\x1b[D"},
		{"wrap at margin", 10, nil, "abcdefghi\x02\x02", "> abcdefgh\r\ni\x1b[D\x1b[A\x1b[9C"},
		{"ctrl-c", 80, nil, "ab\x03", "> ab^C\r\n> "},
		{"enter", 80, nil, "ab\r", "> ab\r\n> "},
		{"enter mid-line", 80, nil, "ab\x01\r", "> ab\x1b[2D\x1b[2C\r\n> "},
		{"history up", 80, []string{"ls"}, "\x1b[A", "> \r\x1b[J> ls"},
		{"ctrl-l", 80, nil, "ab\x02\x0c", "> ab\x1b[D\x1b[H\x1b[2J> ab\x1b[D"},
		{"search", 80, []string{"status web"}, "\x12sta", "> \r\x1b[J(reverse-i-search)'': " +
			"\r\x1b[J(reverse-i-search)'s': status web\x1b[10D" +
			"\r\x1b[J(reverse-i-search)'st': status web\x1b[10D" +
			"\r\x1b[J(reverse-i-search)'sta': status web\x1b[10D"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eachChunk(t, tt.in, func(t *testing.T, chunk int) {
				h := newHarness(t, Config{Prompt: "> "}, chunk, tt.width)
				for _, l := range tt.hist {
					h.e.AddHistory(l)
				}
				h.typeKeys(tt.in)
				if got := h.output(); got != tt.out {
					t.Errorf("output\n%q\nwant\n%q", got, tt.out)
				}
			})
		})
	}
}

func TestEnterReturnsLines(t *testing.T) {
	in := "ls\rps aux\nstatus\r"
	eachChunk(t, in, func(t *testing.T, chunk int) {
		h := newHarness(t, Config{Prompt: "> "}, chunk, 80)
		h.typeKeys(in)
		for _, want := range []string{"ls", "ps aux", "status"} {
			if r := h.next(); r.line != want || r.err != nil {
				t.Errorf("ReadLine = %q, %v; want %q", r.line, r.err, want)
			}
		}
		if got := h.e.History(); strings.Join(got, "|") != "ls|ps aux|status" {
			t.Errorf("history %q", got)
		}
	})
}

func TestCtrlCFreshPrompt(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 80)
	h.typeKeys("stop all\x03")
	h.noResult()
	rows, _, _ := h.screen()
	if len(rows) != 2 || rows[0] != "> stop all^C" || rows[1] != ">" {
		t.Errorf("screen %q", rows)
	}
	h.typeKeys("status\r")
	if r := h.next(); r.line != "status" || r.err != nil {
		t.Errorf("ReadLine after Ctrl-C = %q, %v", r.line, r.err)
	}
}

func TestCtrlDOnEmptyLine(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 80)
	h.typeKeys("\x04")
	if r := h.next(); r.err != io.EOF || r.line != "" {
		t.Fatalf("Ctrl-D = %q, %v; want io.EOF", r.line, r.err)
	}
	h.typeKeys("x\r") // the editor stays usable
	if r := h.next(); r.line != "x" || r.err != nil {
		t.Errorf("ReadLine = %q, %v", r.line, r.err)
	}
}

func TestInputEOF(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 80)
	h.typeKeys("abc\x1b")
	h.in.close()
	r := h.next()
	if r.err != io.EOF || r.line != "" {
		t.Errorf("ReadLine at EOF = %q, %v", r.line, r.err)
	}
}

func TestEscTimeout(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 80)
	h.e.AddHistory("stop db")
	h.typeKeys("ab\x12st\x1b")
	h.waitFor("Esc timer", func() bool { return h.after.Load() > 0 })
	if !h.searching() {
		t.Fatal("search ended before the Esc timeout")
	}
	h.escFire <- time.Time{}
	h.waitFor("Esc to cancel the search", func() bool { return !h.searching() })
	if line, pos := h.state(); line != "ab" || pos != 2 {
		t.Errorf("after Esc: %q pos %d, want \"ab\" pos 2", line, pos)
	}
	h.checkScreen(0, "> ")

	// ESC and the rest of a sequence in separate reads, the timer not
	// firing in between: one key.
	h.typeKeys("\x1b")
	h.typeKeys("[D")
	if line, pos := h.state(); line != "ab" || pos != 1 {
		t.Errorf("after split Left: %q pos %d, want \"ab\" pos 1", line, pos)
	}
}

func (h *harness) searching() bool {
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	return h.e.search != nil
}
