package lineedit

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Config configures an Editor. The zero value is usable.
type Config struct {
	// Prompt is written before each line.
	Prompt string

	// Width reports the terminal's columns. It is called at the start of
	// each ReadLine and by Redraw; SetWidth overrides it until then. Nil,
	// or a result below 1, means 80 (or the last width known).
	Width func() int

	// Complete, if set, is called on Tab with the line and the cursor's
	// byte offset in it. The candidates replace line[wordStart:pos]. It is
	// called with the editor locked: it must not call the Editor's methods.
	Complete func(line string, pos int) (candidates []string, wordStart int)

	// HistoryFile is where history persists, created mode 0600 if missing.
	// "" keeps history in memory only.
	HistoryFile string

	// Suspend, if set, is called on Ctrl-Z (byte 0x1a: ISIG is off in raw
	// mode, so the kernel sends no SIGTSTP). It typically restores the
	// terminal, stops the process and returns once it is continued and
	// raw again. The editor first moves below the line, and redraws it
	// afterwards. Nil ignores Ctrl-Z. It is called without the lock.
	Suspend func()

	// EscTimeout is how long a lone ESC waits for the rest of an escape
	// sequence before it counts as the Esc key. Zero means 50ms.
	EscTimeout time.Duration

	// After is the clock seam for EscTimeout. Nil means time.After.
	After func(time.Duration) <-chan time.Time
}

// Editor reads lines from a terminal in raw mode. Create it with New.
//
// Reading: ReadLine reads from the input only while it runs, and only when
// it needs bytes, each Read in a short-lived goroutine so that a lone ESC
// can time out. When ReadLine returns a line no Read is in flight, so the
// caller may hand the terminal to someone else (an attach session) between
// calls; bytes typed ahead stay buffered in the Editor for the next call.
// The one exception is an interrupted ReadLine (Close, a write error): its
// pending Read may swallow the next bytes.
type Editor struct {
	in         io.Reader
	complete   func(string, int) ([]string, int)
	suspend    func()
	widthFunc  func() int
	escTimeout time.Duration
	after      func(time.Duration) <-chan time.Time

	closed    chan struct{} // closed by Close
	closeOnce sync.Once

	// Input state, owned by the goroutine running ReadLine (mu's reading
	// flag admits one at a time).
	pending  []byte          // bytes read but not yet decoded
	inflight bool            // a Read is running and will send on readCh
	readCh   chan readResult // capacity 1: a Read finishing never blocks
	readErr  error           // sticky error from in

	// testHookWait, if set, is called each time ReadLine is about to wait
	// for input, with every decodable key handled.
	testHookWait func()

	// mu guards everything below and every write to out.
	mu       sync.Mutex
	out      io.Writer
	outBuf   []byte
	writeErr error
	prompt   string
	width    int
	reading  bool // a ReadLine is in progress
	drawn    bool // prompt and line are on screen and cur is valid
	cur      cell // screen cursor
	line     []rune
	pos      int // cursor index in line
	dirty    bool
	kill     []rune // last killed text, for Ctrl-Y
	hist     *history
	hidx     int    // entry shown; len(hist.entries) is the new line
	hpending []rune // the new line, kept while browsing history
	lastTab  bool   // the previous key was a Tab that found several candidates
	search   *searchState
	histErr  string // last history error reported, to report each once
}

type readResult struct {
	data []byte
	err  error
}

// New returns an Editor reading keys from in and drawing on out. It loads
// the history file if cfg names one; one it cannot use is a
// *HistoryError. The caller owns the terminal: it puts
// it in raw mode (see MakeRaw) before ReadLine and restores it after.
func New(in io.Reader, out io.Writer, cfg Config) (*Editor, error) {
	h, err := loadHistory(cfg.HistoryFile, historyMax)
	if err != nil {
		return nil, &HistoryError{Path: cfg.HistoryFile, Err: err}
	}
	e := &Editor{
		in: in, out: out, prompt: cfg.Prompt, hist: h,
		complete: cfg.Complete, suspend: cfg.Suspend, widthFunc: cfg.Width,
		escTimeout: cfg.EscTimeout, after: cfg.After,
		closed: make(chan struct{}), readCh: make(chan readResult, 1),
		width: 80,
	}
	if e.escTimeout <= 0 {
		e.escTimeout = 50 * time.Millisecond
	}
	if e.after == nil {
		e.after = time.After
	}
	e.pollWidth()
	return e, nil
}

// pollWidth refreshes width from Config.Width. Requires mu (or no sharing).
func (e *Editor) pollWidth() {
	if e.widthFunc != nil {
		if w := e.widthFunc(); w > 0 {
			e.width = w
		}
	}
}

// ReadLine draws the prompt and edits a line until Enter, returning it
// without the newline. It returns io.EOF on Ctrl-D on an empty line or at
// the end of input, ErrClosed after Close, ErrBusy if another ReadLine is
// running, and the error of a failed Write; the line is then "". Ctrl-C
// abandons the line and starts a new one: it never returns. The cursor
// must be at the start of a screen row when ReadLine is called.
func (e *Editor) ReadLine() (string, error) {
	if err := e.begin(); err != nil {
		return "", err
	}
	for {
		k, err := e.nextKey()
		if err != nil {
			e.end()
			return "", err
		}
		r := e.handleKey(k)
		if r.suspend {
			e.suspend()
			e.mu.Lock()
			e.pollWidth()
			e.drawAll()
			e.flush()
			e.mu.Unlock()
		}
		if r.done {
			return r.line, r.err
		}
	}
}

// begin starts a ReadLine: resets the line and draws the prompt.
func (e *Editor) begin() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.closed:
		return ErrClosed
	default:
	}
	if e.reading {
		return ErrBusy
	}
	e.reading = true
	e.line, e.pos, e.search, e.lastTab = nil, 0, nil, false
	e.hidx, e.hpending = len(e.hist.entries), nil
	e.pollWidth()
	e.cur = cell{}
	e.drawAll()
	e.flush()
	return nil
}

// end finishes a ReadLine that failed: leaves the line on screen.
func (e *Editor) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leaveLine()
	e.search = nil
	e.flush()
	e.reading = false
}

// nextKey returns the next key press, reading more input when the pending
// bytes hold no complete key. A lone ESC followed by nothing for
// escTimeout is the Esc key.
func (e *Editor) nextKey() (Key, error) {
	for {
		if k, n, ok := DecodeKey(e.pending); ok {
			e.pending = e.pending[n:]
			return k, nil
		}
		if e.readErr != nil {
			return e.flushPending()
		}
		if e.testHookWait != nil {
			e.testHookWait()
		}
		var timeout <-chan time.Time
		if len(e.pending) > 0 && e.pending[0] == esc {
			timeout = e.after(e.escTimeout)
		}
		e.startRead()
		select {
		case r := <-e.readCh:
			e.inflight = false
			e.pending = append(e.pending, r.data...)
			e.readErr = r.err
		case <-timeout:
			e.pending = e.pending[1:]
			return Key{Kind: KeyEscape}, nil
		case <-e.closed:
			return Key{}, ErrClosed
		}
	}
}

// flushPending empties an incomplete sequence left at the end of input:
// ESC is the Esc key and anything else is unknown.
func (e *Editor) flushPending() (Key, error) {
	switch {
	case len(e.pending) == 0:
		return Key{}, e.readErr
	case e.pending[0] == esc:
		e.pending = e.pending[1:]
		return Key{Kind: KeyEscape}, nil
	}
	e.pending = nil
	return Key{Kind: KeyUnknown}, nil
}

// startRead starts a Read unless one is in flight.
func (e *Editor) startRead() {
	if e.inflight {
		return
	}
	e.inflight = true
	go func() {
		buf := make([]byte, 256)
		n, err := e.in.Read(buf)
		e.readCh <- readResult{buf[:n], err}
	}()
}

// PrintAbove prints s and a newline above the line being edited, which is
// redrawn below it with the cursor where it was. Without a line on screen
// it just prints. A trailing newline in s is dropped and inner ones become
// "\r\n" (raw mode). Safe to call from any goroutine at any time.
func (e *Editor) PrintAbove(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
	if e.drawn {
		e.moveToStart()
		e.outStr("\x1b[J")
		e.outStr(s)
		e.drawAll()
	} else {
		e.outStr(s)
	}
	e.flush()
}

// SetPrompt changes the prompt, redrawing it if a line is being edited.
func (e *Editor) SetPrompt(p string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prompt = p
	if e.drawn && e.search == nil {
		e.refresh()
		e.flush()
	}
}

// SetWidth sets the terminal's width in columns (call it on SIGWINCH) and
// redraws the line being edited. Values below 1 are ignored.
func (e *Editor) SetWidth(cols int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cols < 1 {
		return
	}
	if e.drawn {
		// Some terminals reflow wrapped rows on resize, some do not; the
		// cursor's row is one of the two estimates. Taking the smaller
		// one never climbs above the prompt into older output (at worst
		// a stale row stays visible).
		prompt, line, pos := e.view()
		c, _ := layout(prompt, line, pos, cols)
		e.cur.row = min(e.cur.row, c.row)
	}
	e.width = cols
	if e.drawn {
		e.refresh()
		e.flush()
	}
}

// Redraw redraws prompt and line in place, after polling Config.Width.
// Use it when something else drew on the screen (after SIGCONT).
func (e *Editor) Redraw() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pollWidth()
	if e.drawn {
		e.refresh()
		e.flush()
	}
}

// AddHistory records line as if it had been entered, unless it is blank,
// starts with a space, contains a newline or repeats the last entry, and
// appends it to the history file.
func (e *Editor) AddHistory(line string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.hist.entries)
	atNew := e.hidx == n
	added, err := e.hist.add(line)
	switch {
	case atNew:
		e.hidx = len(e.hist.entries) // still on the line being typed
	case added && len(e.hist.entries) == n:
		e.hidx = max(0, e.hidx-1) // the oldest entry went: follow the one shown
	}
	return err
}

// History returns a copy of the history, oldest first.
func (e *Editor) History() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.hist.entries...)
}

// Close makes a running and any later ReadLine return ErrClosed. It does
// not close in or out. A Read in flight on in cannot be interrupted: it
// ends when in delivers bytes (which are dropped) or is closed.
func (e *Editor) Close() error {
	e.closeOnce.Do(func() { close(e.closed) })
	return nil
}

// result is the outcome of one key.
type result struct {
	line    string
	err     error
	done    bool // ReadLine returns line, err
	suspend bool // call Config.Suspend, then redraw
}

// handleKey applies k to the line and updates the screen.
func (e *Editor) handleKey(k Key) (r result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.flush()
	if e.search != nil && e.searchKey(k) {
		return result{}
	}
	a := binding(k)
	wasTab := e.lastTab
	e.lastTab = false
	oldPos := e.pos
	e.dirty = false
	switch a {
	case actEnter:
		return e.enter()
	case actEOF:
		if len(e.line) == 0 {
			e.leaveLine()
			e.reading = false
			return result{err: io.EOF, done: true}
		}
		e.deleteRange(e.pos, e.clusterEnd(e.pos))
	case actInterrupt:
		e.interrupt()
		return result{}
	case actSuspend:
		if e.suspend == nil {
			return result{}
		}
		e.leaveLine()
		return result{suspend: true}
	case actClear:
		e.outStr("\x1b[H\x1b[2J")
		e.cur = cell{}
		e.drawAll()
		return result{}
	case actSearch:
		e.startSearch()
		return result{}
	case actComplete:
		e.completeLine(wasTab)
	case actInsert:
		e.insert(k.Rune)
	default:
		e.edit(a)
	}
	e.update(oldPos)
	if e.writeErr != nil {
		err := e.writeErr
		e.writeErr = nil
		e.reading, e.drawn = false, false
		return result{err: err, done: true}
	}
	return result{}
}

// update brings the screen up to date after an edit.
func (e *Editor) update(oldPos int) {
	switch {
	case e.dirty:
		e.refresh()
	case e.pos != oldPos:
		c, _ := layout(e.prompt, e.line, e.pos, e.width)
		e.moveCursor(c)
	}
}

// enter finishes the line: the cursor goes below it and it joins history.
func (e *Editor) enter() result {
	line := string(e.line)
	e.leaveLine()
	e.reading = false
	if _, err := e.hist.add(line); err != nil {
		if msg := err.Error(); msg != e.histErr {
			e.histErr = msg
			e.outStr(fmt.Sprintf("warning: history not saved: %s\r\n", sanitize(msg)))
		}
	} else {
		e.histErr = ""
	}
	return result{line: line, done: true}
}

// interrupt abandons the line (Ctrl-C) and starts a new one.
func (e *Editor) interrupt() {
	prompt, line, _ := e.view()
	end, _ := layout(prompt, line, len(line), e.width)
	e.moveCursor(end)
	e.outStr("^C\r\n")
	e.search = nil
	e.line, e.pos = nil, 0
	e.hidx, e.hpending = len(e.hist.entries), nil
	e.cur = cell{}
	e.drawAll()
}

// insert inserts r at the cursor. Appending a visible character at the end
// of the line just writes it; anything else redraws.
func (e *Editor) insert(r rune) {
	if isControl(r) {
		return
	}
	atEnd := e.pos == len(e.line)
	e.line = append(e.line[:e.pos], append([]rune{r}, e.line[e.pos:]...)...)
	e.pos++
	if !atEnd || !e.drawn || runeWidth(r) == 0 {
		e.dirty = true
		return
	}
	e.outBuf = utf8.AppendRune(e.outBuf, r)
	c, margin := layout(e.prompt, e.line, e.pos, e.width)
	if margin {
		e.outStr("\r\n")
	}
	e.cur = c
}

// completeLine runs the completer: a unique candidate is inserted with a
// trailing space, several extend the word to their longest common prefix,
// and on a second Tab in a row they are listed.
func (e *Editor) completeLine(secondTab bool) {
	if e.complete == nil {
		return
	}
	s := string(e.line)
	bpos := len(string(e.line[:e.pos]))
	cands, start := e.complete(s, bpos)
	if start < 0 || start > bpos || (start < len(s) && !utf8.RuneStart(s[start])) {
		return // a completer bug: ignore rather than corrupt the line
	}
	word := s[start:bpos]
	switch len(cands) {
	case 0:
		return
	case 1:
		e.replaceWord(start, cands[0]+" ")
		return
	}
	e.lastTab = true
	if p := commonPrefix(cands); len(p) > len(word) {
		e.replaceWord(start, p)
	}
	if secondTab {
		e.listCandidates(cands)
	}
}

// replaceWord replaces the runes from byte offset start to the cursor with text.
func (e *Editor) replaceWord(start int, text string) {
	from := utf8.RuneCountInString(string(e.line)[:start])
	ins := toRunes(text)
	tail := append([]rune(nil), e.line[e.pos:]...)
	e.line = append(append(e.line[:from], ins...), tail...)
	e.pos = from + len(ins)
	e.dirty = true
}

// listCandidates prints cands in columns below the line and redraws it.
func (e *Editor) listCandidates(cands []string) {
	if e.dirty {
		e.refresh()
		e.dirty = false
	}
	items := make([]string, len(cands))
	for i, c := range cands {
		items[i] = sanitize(c)
	}
	e.leaveLine()
	e.printColumns(items)
	e.drawAll()
}

// commonPrefix is the longest common prefix of ss, cut at a rune boundary.
func commonPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		n := 0
		for n < len(p) && n < len(s) && p[n] == s[n] {
			n++
		}
		p = p[:n]
	}
	for len(p) > 0 && !utf8.ValidString(p) {
		p = p[:len(p)-1]
	}
	return p
}
