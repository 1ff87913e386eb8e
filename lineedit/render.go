package lineedit

import (
	"strconv"
	"strings"
)

// cell is a screen position relative to the first cell of the prompt.
type cell struct{ row, col int }

// layout returns where the cursor stands after drawing prompt and line[:n]
// on a terminal cols wide, and whether the last drawn character filled the
// last column. Positions are normalised: a row filled to the margin puts
// the cursor at column 0 of the next row, because the renderer then writes
// "\r\n" to leave the terminal's deferred-wrap state (xterm and VT100
// differ there; after CR LF every terminal agrees). A double-width
// character that does not fit in the last column wraps early, as
// terminals draw it.
func layout(prompt string, line []rune, n, cols int) (c cell, margin bool) {
	put := func(r rune) {
		w := runeWidth(r)
		if w == 0 {
			return
		}
		if c.col > 0 && c.col+w > cols {
			c.row, c.col = c.row+1, 0
		}
		c.col += w
		margin = false
		if c.col >= cols {
			c.row, c.col = c.row+1, 0
			margin = true
		}
	}
	visibleRunes(prompt, put)
	for _, r := range line[:n] {
		put(r)
	}
	return c, margin
}

// visibleRunes calls fn for each rune of s outside escape sequences.
func visibleRunes(s string, fn func(rune)) {
	inEsc := false
	for _, r := range s {
		switch {
		case inEsc:
			inEsc = !((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
		case r == esc:
			inEsc = true
		default:
			fn(r)
		}
	}
}

// stringWidth is the display width of s.
func stringWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

// The methods below append to e.outBuf; flush writes it. All require e.mu.

func (e *Editor) outStr(s string) { e.outBuf = append(e.outBuf, s...) }

// csi appends a cursor movement: ESC [ n final, with n omitted when 1.
func (e *Editor) csi(n int, final byte) {
	e.outBuf = append(e.outBuf, esc, '[')
	if n != 1 {
		e.outBuf = strconv.AppendInt(e.outBuf, int64(n), 10)
	}
	e.outBuf = append(e.outBuf, final)
}

// flush writes the queued output in one Write, so output never interleaves
// mid-sequence with another writer holding e.mu.
func (e *Editor) flush() {
	if len(e.outBuf) == 0 {
		return
	}
	if _, err := e.out.Write(e.outBuf); err != nil && e.writeErr == nil {
		e.writeErr = err
	}
	e.outBuf = e.outBuf[:0]
}

// moveCursor moves the screen cursor to c with relative CSI movements.
func (e *Editor) moveCursor(c cell) {
	switch {
	case c.row < e.cur.row:
		e.csi(e.cur.row-c.row, 'A')
	case c.row > e.cur.row:
		e.csi(c.row-e.cur.row, 'B')
	}
	switch {
	case c.col < e.cur.col:
		e.csi(e.cur.col-c.col, 'D')
	case c.col > e.cur.col:
		e.csi(c.col-e.cur.col, 'C')
	}
	e.cur = c
}

// moveToStart moves the cursor to the first cell of the prompt.
func (e *Editor) moveToStart() {
	if e.cur.row > 0 {
		e.csi(e.cur.row, 'A')
	}
	e.outStr("\r")
	e.cur = cell{}
}

// view returns what is on screen: the prompt, the line and the cursor's
// index in it; in reverse search, the search prompt and the match.
func (e *Editor) view() (prompt string, line []rune, pos int) {
	if s := e.search; s != nil {
		return s.prompt(), s.line(), s.pos()
	}
	return e.prompt, e.line, e.pos
}

// drawAll draws prompt and line from the cursor, which must be at the
// first cell of the prompt, and puts the cursor at its place in the line.
func (e *Editor) drawAll() {
	prompt, line, pos := e.view()
	e.outStr(prompt)
	e.outStr(string(line)) // runes entering a line are sanitized: no controls
	end, margin := layout(prompt, line, len(line), e.width)
	if margin {
		e.outStr("\r\n")
	}
	e.cur = end
	e.drawn = true
	c, _ := layout(prompt, line, pos, e.width)
	e.moveCursor(c)
}

// refresh redraws prompt and line in place, clearing whatever the previous
// drawing left below.
func (e *Editor) refresh() {
	e.moveToStart()
	e.outStr("\x1b[J")
	e.drawAll()
}

// leaveLine moves the cursor below the line being edited, ready for other
// output, and marks it as no longer on screen.
func (e *Editor) leaveLine() {
	if !e.drawn {
		return
	}
	prompt, line, _ := e.view()
	end, margin := layout(prompt, line, len(line), e.width)
	e.moveCursor(end)
	if !margin {
		e.outStr("\r\n")
	}
	e.cur = cell{}
	e.drawn = false
}

// toRunes converts s for insertion into a line.
func toRunes(s string) []rune { return []rune(sanitize(s)) }

// sanitize replaces control characters, which would move the cursor behind
// the renderer's back, with U+FFFD.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// printColumns writes items in columns that fit width, ordered down the
// columns like ls(1), each row ended by "\r\n". Items must be sanitized.
func (e *Editor) printColumns(items []string) {
	maxw := 0
	for _, it := range items {
		maxw = max(maxw, stringWidth(it))
	}
	const gap = 2
	ncols := max(1, (e.width+gap)/(maxw+gap))
	nrows := (len(items) + ncols - 1) / ncols
	for r := 0; r < nrows; r++ {
		for c := 0; c < ncols; c++ {
			i := c*nrows + r
			if i >= len(items) {
				break
			}
			e.outStr(items[i])
			if next := (c+1)*nrows + r; c+1 < ncols && next < len(items) {
				e.outStr(strings.Repeat(" ", maxw+gap-stringWidth(items[i])))
			}
		}
		e.outStr("\r\n")
	}
}
