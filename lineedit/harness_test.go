package lineedit

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testDeadline bounds every wait in these tests.
const testDeadline = 10 * time.Second

// fakeInput is the keyboard: bytes fed by the test are served at most
// chunk bytes per Read. Read blocks until there is data or close.
type fakeInput struct {
	mu     sync.Mutex
	data   []byte
	chunk  int
	served int // bytes handed out so far
	fed    int
	closed bool
	active int // Reads in progress
	wake   chan struct{}
}

func newFakeInput(chunk int) *fakeInput {
	return &fakeInput{chunk: chunk, wake: make(chan struct{}, 1)}
}

func (f *fakeInput) feed(s string) int {
	f.mu.Lock()
	f.data = append(f.data, s...)
	f.fed += len(s)
	n := f.fed
	f.mu.Unlock()
	f.poke()
	return n
}

func (f *fakeInput) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.poke()
}

func (f *fakeInput) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fakeInput) Read(p []byte) (int, error) {
	f.mu.Lock()
	f.active++
	defer func() { f.active--; f.mu.Unlock() }()
	deadline := time.After(testDeadline)
	for len(f.data) == 0 {
		if f.closed {
			return 0, io.EOF
		}
		f.mu.Unlock()
		select {
		case <-f.wake:
		case <-deadline:
			f.mu.Lock()
			return 0, errors.New("fakeInput: test deadline")
		}
		f.mu.Lock()
	}
	n := copy(p, f.data[:min(len(f.data), f.chunk)])
	f.data = f.data[n:]
	f.served += n
	if len(f.data) > 0 {
		f.poke() // keep a waiting reader going
	}
	return n, nil
}

func (f *fakeInput) stats() (served, active int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served, f.active
}

// syncWriter records everything written and feeds a vt.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	vt  *vt
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	return w.vt.Write(p)
}

type lineResult struct {
	line string
	err  error
}

// harness runs ReadLine in a loop over a fakeInput and a vt.
type harness struct {
	t       *testing.T
	e       *Editor
	in      *fakeInput
	out     *syncWriter
	results chan lineResult
	idleAt  atomic.Int64 // bytes served when ReadLine last waited for input
	changed chan struct{}
	escFire chan time.Time
	after   atomic.Int64 // calls to the After seam
	done    chan struct{}
}

func newHarness(t *testing.T, cfg Config, chunk, cols int) *harness {
	t.Helper()
	h := &harness{
		t: t, in: newFakeInput(chunk),
		out:     &syncWriter{vt: newVT(cols, 40)},
		results: make(chan lineResult, 100),
		changed: make(chan struct{}, 1),
		escFire: make(chan time.Time, 1),
		done:    make(chan struct{}),
	}
	h.idleAt.Store(-1)
	if cfg.Width == nil {
		cfg.Width = func() int { return cols }
	}
	cfg.After = func(time.Duration) <-chan time.Time {
		h.after.Add(1)
		h.poke()
		return h.escFire
	}
	e, err := New(h.in, h.out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	e.testHookWait = func() {
		served, _ := h.in.stats()
		h.idleAt.Store(int64(served))
		h.poke()
	}
	go h.loop()
	t.Cleanup(func() {
		h.in.close()
		select {
		case <-h.done:
		case <-time.After(testDeadline):
			t.Error("ReadLine loop did not end")
		}
		e.Close()
	})
	return h
}

func (h *harness) poke() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *harness) loop() {
	defer close(h.done)
	for {
		line, err := h.e.ReadLine()
		h.results <- lineResult{line, err}
		if err != nil && !errors.Is(err, io.EOF) {
			return
		}
		h.in.mu.Lock()
		closed := h.in.closed
		h.in.mu.Unlock()
		if closed && err != nil {
			return
		}
	}
}

// waitFor polls cond each time the editor reports progress.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(testDeadline)
	for !cond() {
		select {
		case <-h.changed:
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// typeKeys feeds s and waits until the editor has handled all of it.
func (h *harness) typeKeys(s string) {
	h.t.Helper()
	n := h.in.feed(s)
	h.waitIdle(n)
}

func (h *harness) waitIdle(n int) {
	h.t.Helper()
	h.waitFor("editor to consume input", func() bool { return h.idleAt.Load() == int64(n) })
}

// state returns the line being edited and the cursor's index in it.
func (h *harness) state() (string, int) {
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	return string(h.e.line), h.e.pos
}

func (h *harness) next() lineResult {
	h.t.Helper()
	select {
	case r := <-h.results:
		return r
	case <-time.After(testDeadline):
		h.t.Fatal("timed out waiting for ReadLine")
	}
	panic("unreachable")
}

func (h *harness) noResult() {
	h.t.Helper()
	select {
	case r := <-h.results:
		h.t.Fatalf("unexpected ReadLine result %q, %v", r.line, r.err)
	default:
	}
}

func (h *harness) output() string {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	return h.out.buf.String()
}

// screen returns the vt's rows and cursor.
func (h *harness) screen() (rows []string, x, y int) {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	if len(h.out.vt.errs) > 0 {
		h.t.Errorf("vt errors: %q", h.out.vt.errs)
	}
	x, y = h.out.vt.cursor()
	return h.out.vt.screen(), x, y
}

// checkScreen verifies, independently of the editor's layout code, that
// the bottom of the screen from row top shows prompt and line, and that
// the cursor stands where a terminal would put it after prompt+line[:pos].
func (h *harness) checkScreen(top int, prompt string) {
	h.t.Helper()
	line, pos := h.state()
	rows, x, y := h.screen()
	h.out.mu.Lock()
	cols := h.out.vt.cols
	h.out.mu.Unlock()
	ref := newVT(cols, 40)
	ref.Write([]byte(prompt + string([]rune(line)[:pos])))
	wx, wy := ref.cursor()
	ref.Write([]byte(string([]rune(line)[pos:])))
	want := ref.screen()
	got := rows[min(top, len(rows)):]
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		h.t.Errorf("screen from row %d:\n%s\nwant:\n%s", top, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if x != wx || y != wy+top {
		h.t.Errorf("cursor at (%d,%d), want (%d,%d) for line %q pos %d", x, y, wx, wy+top, line, pos)
	}
}
