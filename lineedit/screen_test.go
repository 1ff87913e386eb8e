package lineedit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestWrapWidth10 types and edits a line much longer than a 10-column
// terminal one key at a time, checking the screen after every key.
func TestWrapWidth10(t *testing.T) {
	keys := []string{
		"a", "b", "c", "d", "e", "f", "g", "h", // fills row 0 exactly
		"i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u",
		"\x1b[D", "\x1b[D", "\x1b[D", "\x1b[D", "\x1b[D", "X", "Y",
		"\x01", "Z", "\x05", "\x7f", "\x7f", "\x7f", "\x02", "\x02", "\x02",
		"\x1b[3~", "\x0b", "\x01", "\x1bf", "\x1bf", "\x15",
		"世", "界", "世", "界", "世", "界", "é", "\u0301", "😀", "x",
		"\x1b[D", "\x1b[D", "\x1b[D", "\x1b[D", "\x1b[D", "\x1b[D",
		"\x14", "\x17", "\x19", "\x0c", "\x01", "\x0b",
		"abcdefghijklmnopqrstuvwxyz", "\x1bb", "\x1b[A", "\x1b[B",
	}
	h := newHarness(t, Config{Prompt: "> "}, 100, 10)
	h.e.AddHistory(strings.Repeat("long entry ", 4))
	for _, k := range keys {
		h.typeKeys(k)
		if t.Failed() {
			break
		}
		h.checkScreen(0, "> ")
		if t.Failed() {
			t.Fatalf("after key %q", k)
		}
	}
}

func TestWideAndCombiningCursor(t *testing.T) {
	for _, tt := range []struct {
		in  string
		col int // cursor column on screen
	}{
		{"世界", 6},
		{"世界\x02", 4},
		{"e\u0301e\u0301", 4},
		{"e\u0301e\u0301\x02", 3},
		{"😀a", 5},
		{"😀a\x02\x02", 2},
		{"👩\u200d💻", 6}, // ZWJ sequence: we count 2+0+2, as most terminals draw it without font support
		{"ｆｕｌｌ", 10},
		{"한국어\x01\x06", 4},
	} {
		t.Run(tt.in, func(t *testing.T) {
			h := newHarness(t, Config{Prompt: "> "}, 100, 80)
			h.typeKeys(tt.in)
			if _, x, _ := h.screen(); x != tt.col {
				t.Errorf("cursor column %d, want %d", x, tt.col)
			}
			h.checkScreen(0, "> ")
		})
	}
}

func TestWideCharAtMargin(t *testing.T) {
	// "> abcdef" leaves 2 columns, "g" leaves 1: 世 cannot fit and wraps.
	h := newHarness(t, Config{Prompt: "> "}, 100, 10)
	h.typeKeys("abcdefg世")
	rows, x, y := h.screen()
	if len(rows) != 2 || rows[0] != "> abcdefg" || rows[1] != "世" || x != 2 || y != 1 {
		t.Errorf("screen %q cursor (%d,%d)", rows, x, y)
	}
	h.typeKeys("\x02")
	h.checkScreen(0, "> ")
}

func TestSetWidthRedraws(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 40)
	h.typeKeys("hello world\x1bb")
	h.out.mu.Lock()
	h.out.vt = newVT(8, 40) // a terminal that cleared on resize
	h.out.mu.Unlock()
	h.e.SetWidth(8)
	h.checkScreen(0, "> ")
	h.typeKeys("X")
	h.checkScreen(0, "> ")
}

func TestPrintAbove(t *testing.T) {
	for _, tt := range []struct {
		name  string
		width int
		keys  string
	}{
		{"short", 80, "status we\x02\x02"},
		{"wrapped", 10, "restart webserver\x1bb"},
		{"at margin", 10, "abcdefgh"},
		{"searching", 80, "\x12sta"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{Prompt: "> "}, 100, tt.width)
			h.e.AddHistory("status web")
			h.typeKeys(tt.keys)
			_, x0, _ := h.screen()
			done := make(chan struct{})
			go func() { // from another goroutine, as the supervisor does
				h.e.PrintAbove("web: exited (1)\n")
				close(done)
			}()
			<-done
			rows, x, _ := h.screen()
			want := "web: exited (1)"
			if tt.width == 10 {
				want = "web: exite"
			}
			if rows[0] != want {
				t.Errorf("row 0 = %q, want %q", rows[0], want)
			}
			if x != x0 {
				t.Errorf("cursor column %d, was %d", x, x0)
			}
			if !h.searching() {
				h.checkScreen(len(rows)-len(rowsOf(h)), "> ")
			}
		})
	}
}

// rowsOf returns the rows the prompt and line occupy, as a fresh terminal
// shows them.
func rowsOf(h *harness) []string {
	line, _ := h.state()
	h.out.mu.Lock()
	ref := newVT(h.out.vt.cols, 40)
	h.out.mu.Unlock()
	ref.Write([]byte("> " + line))
	return ref.screen()
}

func TestPrintAboveNotReading(t *testing.T) {
	var out strings.Builder
	e, err := New(strings.NewReader(""), &out, Config{Prompt: "> "})
	if err != nil {
		t.Fatal(err)
	}
	e.PrintAbove("one\ntwo")
	if got := out.String(); got != "one\r\ntwo\r\n" {
		t.Errorf("output %q", got)
	}
}

// TestPrintAboveConcurrent prints from many goroutines while keys arrive;
// run with -race. Every event line must be whole and the line intact.
func TestPrintAboveConcurrent(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 3, 80)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.e.PrintAbove(fmt.Sprintf("event %02d", i))
		}()
	}
	h.typeKeys("restart all\x1bb")
	wg.Wait()
	rows, _, _ := h.screen()
	if len(rows) != n+1 {
		t.Fatalf("screen has %d rows: %q", len(rows), rows)
	}
	for _, r := range rows[:n] {
		if !strings.HasPrefix(r, "event ") || len(r) != len("event 00") {
			t.Errorf("mangled event row %q", r)
		}
	}
	h.checkScreen(n, "> ")
}

func TestCtrlLKeepsCursor(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 80)
	h.PrintAboveAndType("old output", "abc\x02")
	h.typeKeys("\x0c")
	rows, x, y := h.screen()
	if len(rows) != 1 || rows[0] != "> abc" || x != 4 || y != 0 {
		t.Errorf("after Ctrl-L screen %q cursor (%d,%d)", rows, x, y)
	}
}

func (h *harness) PrintAboveAndType(event, keys string) {
	h.e.PrintAbove(event)
	h.typeKeys(keys)
}

func TestCtrlZSuspend(t *testing.T) {
	var h *harness
	calls := 0
	h = newHarness(t, Config{Prompt: "> ", Suspend: func() {
		calls++
		h.e.PrintAbove("[suspended]") // the hook runs without the lock
	}}, 100, 80)
	h.typeKeys("abc\x02\x1a")
	if calls != 1 {
		t.Fatalf("Suspend called %d times", calls)
	}
	rows, _, _ := h.screen()
	if len(rows) != 3 || rows[0] != "> abc" || rows[1] != "[suspended]" {
		t.Errorf("screen %q", rows)
	}
	h.checkScreen(2, "> ")
	h.typeKeys("\r")
	if r := h.next(); r.line != "abc" {
		t.Errorf("ReadLine = %q, %v", r.line, r.err)
	}
}

func TestReverseSearchDisplay(t *testing.T) {
	h := newHarness(t, Config{Prompt: "> "}, 100, 80)
	for _, l := range []string{"start api", "stop db", "status web"} {
		h.e.AddHistory(l)
	}
	for _, step := range []struct {
		keys, row string
		col       int
	}{
		{"\x12", "(reverse-i-search)'':", 22},
		{"sta", "(reverse-i-search)'sta': status web", 25},
		{"\x12", "(reverse-i-search)'sta': start api", 25},
		{"\x12", "(failed reverse-i-search)'sta': start api", 32},
		{"\x7f", "(reverse-i-search)'st': status web", 24},
		{"op", "(reverse-i-search)'stop': stop db", 26},
	} {
		h.typeKeys(step.keys)
		rows, x, _ := h.screen()
		if len(rows) != 1 || rows[0] != step.row || x != step.col {
			t.Errorf("after %q: screen %q col %d, want %q col %d", step.keys, rows, x, step.row, step.col)
		}
	}
	h.typeKeys("\r")
	if r := h.next(); r.line != "stop db" || r.err != nil {
		t.Errorf("Enter in search = %q, %v", r.line, r.err)
	}
	if hist := h.e.History(); hist[len(hist)-1] != "stop db" {
		t.Errorf("history %q", hist)
	}
}

func TestCompletion(t *testing.T) {
	words := []string{"start", "status", "stop", "restart", "tail"}
	complete := func(line string, pos int) ([]string, int) {
		start := strings.LastIndexByte(line[:pos], ' ') + 1
		var out []string
		for _, w := range words {
			if strings.HasPrefix(w, line[start:pos]) {
				out = append(out, w)
			}
		}
		return out, start
	}
	for _, tt := range []struct {
		in, line string
		pos      int
	}{
		{"ta\t", "tail ", 5},
		{"star\t", "start ", 6},
		{"s\t", "st", 2},
		{"sta\t", "sta", 3},
		{"x\t", "x", 1},
		{"tai foo\x01\x06\x06\x06\t", "tail  foo", 5},
		{"restart we\x1bb\x1bb\x06\x06\t", "restart start we", 8}, // only "re" is replaced
	} {
		t.Run(tt.in, func(t *testing.T) {
			eachChunk(t, tt.in, func(t *testing.T, chunk int) {
				h := newHarness(t, Config{Prompt: "> ", Complete: complete}, chunk, 80)
				h.typeKeys(tt.in)
				if line, pos := h.state(); line != tt.line || pos != tt.pos {
					t.Errorf("line %q pos %d, want %q pos %d", line, pos, tt.line, tt.pos)
				}
			})
		})
	}
}

func TestCompletionList(t *testing.T) {
	var cands []string
	for i := range 7 {
		cands = append(cands, fmt.Sprintf("job%d", i)+strings.Repeat("x", i))
	}
	complete := func(line string, pos int) ([]string, int) { return cands, 0 }
	h := newHarness(t, Config{Prompt: "> ", Complete: complete}, 100, 30)
	h.typeKeys("jo x\x02\x02\t")
	if line, pos := h.state(); line != "job x" || pos != 3 {
		t.Fatalf("first Tab: line %q pos %d, want common prefix: \"job x\" pos 3", line, pos)
	}
	h.typeKeys("\t") // second Tab in a row, cursor not at the end
	rows, x, y := h.screen()
	want := []string{
		"> job x",
		"job0        job4xxxx",
		"job1x       job5xxxxx",
		"job2xx      job6xxxxxx",
		"job3xxx",
		"> job x",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if x != 5 || y != 5 {
		t.Errorf("cursor (%d,%d), want (5,5)", x, y)
	}
	h.checkScreen(5, "> ")
	h.typeKeys("x\t") // not consecutive: no list
	if rows2, _, _ := h.screen(); len(rows2) != len(rows) {
		t.Errorf("Tab after typing listed again: %q", rows2)
	}
}
