package lineedit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// vt is a tiny VT100/xterm emulator for tests: printable text with
// autowrap (deferred, as xterm), double-width and combining characters,
// CR, LF, and CSI A B C D K J H. Anything else is recorded in errs.
type vt struct {
	cols, rows  int
	grid        [][]string // "" blank, wideCont right half of a wide char
	x, y        int
	wrapPending bool
	partial     []byte // an incomplete sequence or rune from the last Write
	errs        []string
}

const wideCont = "\x00"

func newVT(cols, rows int) *vt {
	v := &vt{cols: cols, rows: rows}
	for range rows {
		v.grid = append(v.grid, make([]string, cols))
	}
	return v
}

func (v *vt) Write(p []byte) (int, error) {
	b := append(v.partial, p...)
	v.partial = nil
	for len(b) > 0 {
		n := v.step(b)
		if n == 0 {
			v.partial = append([]byte(nil), b...)
			break
		}
		b = b[n:]
	}
	return len(p), nil
}

// step consumes one character or sequence; 0 means incomplete.
func (v *vt) step(b []byte) int {
	switch c := b[0]; {
	case c == '\r':
		v.x, v.wrapPending = 0, false
		return 1
	case c == '\n':
		v.lineFeed()
		v.wrapPending = false
		return 1
	case c == esc:
		return v.escape(b)
	case c < 0x20 || c == 0x7f:
		v.errs = append(v.errs, fmt.Sprintf("control %#x", c))
		return 1
	}
	if !utf8.FullRune(b) {
		return 0
	}
	r, n := utf8.DecodeRune(b)
	v.put(r)
	return n
}

func (v *vt) lineFeed() {
	if v.y < v.rows-1 {
		v.y++
		return
	}
	v.grid = append(v.grid[1:], make([]string, v.cols))
}

func (v *vt) put(r rune) {
	w := runeWidth(r)
	if w == 0 {
		x := v.x - 1
		if v.wrapPending {
			x = v.x
		}
		if x >= 0 {
			v.grid[v.y][x] += string(r)
		}
		return
	}
	if v.wrapPending || (w == 2 && v.x+2 > v.cols) {
		v.x = 0
		v.lineFeed()
		v.wrapPending = false
	}
	v.grid[v.y][v.x] = string(r)
	if w == 2 {
		v.grid[v.y][v.x+1] = wideCont
	}
	v.x += w
	if v.x >= v.cols {
		v.x, v.wrapPending = v.cols-1, true
	}
}

func (v *vt) escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	if b[1] != '[' {
		v.errs = append(v.errs, fmt.Sprintf("escape %q", b[:2]))
		return 2
	}
	i := 2
	for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == ';') {
		i++
	}
	if i == len(b) {
		return 0
	}
	var ps []int
	for _, f := range strings.Split(string(b[2:i]), ";") {
		n, _ := strconv.Atoi(f)
		ps = append(ps, n)
	}
	p := func(j, def int) int {
		if j < len(ps) && ps[j] != 0 {
			return ps[j]
		}
		return def
	}
	v.wrapPending = false
	switch b[i] {
	case 'A':
		v.y = max(0, v.y-p(0, 1))
	case 'B':
		v.y = min(v.rows-1, v.y+p(0, 1))
	case 'C':
		v.x = min(v.cols-1, v.x+p(0, 1))
	case 'D':
		v.x = max(0, v.x-p(0, 1))
	case 'H':
		v.y, v.x = min(v.rows, p(0, 1))-1, min(v.cols, p(1, 1))-1
	case 'K':
		for x := v.x; x < v.cols; x++ {
			v.grid[v.y][x] = ""
		}
	case 'J':
		switch p(0, 0) {
		case 0:
			for x := v.x; x < v.cols; x++ {
				v.grid[v.y][x] = ""
			}
			for y := v.y + 1; y < v.rows; y++ {
				v.grid[y] = make([]string, v.cols)
			}
		case 2:
			for y := range v.grid {
				v.grid[y] = make([]string, v.cols)
			}
		default:
			v.errs = append(v.errs, fmt.Sprintf("CSI %q", b[:i+1]))
		}
	default:
		v.errs = append(v.errs, fmt.Sprintf("CSI %q", b[:i+1]))
	}
	return i + 1
}

// row returns screen row y as text, trailing blanks trimmed.
func (v *vt) row(y int) string {
	var sb strings.Builder
	for _, c := range v.grid[y] {
		switch c {
		case wideCont:
		case "":
			sb.WriteByte(' ')
		default:
			sb.WriteString(c)
		}
	}
	return strings.TrimRight(sb.String(), " ")
}

// screen returns the non-blank rows, up to the last non-blank one.
func (v *vt) screen() []string {
	var rows []string
	last := -1
	for y := range v.grid {
		rows = append(rows, v.row(y))
		if rows[y] != "" {
			last = y
		}
	}
	return rows[:last+1]
}

// cursor returns the cursor position, with a pending wrap resolved to
// the start of the next row (where the next character would go).
func (v *vt) cursor() (x, y int) {
	if v.wrapPending {
		return 0, v.y + 1
	}
	return v.x, v.y
}
