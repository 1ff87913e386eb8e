package lineedit

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// action is what a key does in the editor.
type action uint8

const (
	actNone action = iota
	actInsert
	actEnter
	actEOF // Ctrl-D: end of input on an empty line, else delete
	actInterrupt
	actSuspend
	actClear
	actSearch
	actComplete
	actCancel // Ctrl-G, Esc: leave reverse search
	actLeft
	actRight
	actHome
	actEnd
	actWordLeft
	actWordRight
	actBackspace
	actDelete
	actKillEnd
	actKillStart
	actKillSpaceWord // Ctrl-W
	actKillWordRight // Alt-D
	actKillWordLeft  // Alt-Backspace
	actYank
	actTranspose
	actHistPrev
	actHistNext
)

// ctrlBindings maps Ctrl-letter keys, as in GNU readline's emacs mode.
var ctrlBindings = map[rune]action{
	'a': actHome, 'b': actLeft, 'c': actInterrupt, 'd': actEOF, 'e': actEnd,
	'f': actRight, 'g': actCancel, 'k': actKillEnd, 'l': actClear,
	'n': actHistNext, 'p': actHistPrev, 'r': actSearch, 't': actTranspose,
	'u': actKillStart, 'w': actKillSpaceWord, 'y': actYank, 'z': actSuspend,
}

var altBindings = map[rune]action{'b': actWordLeft, 'f': actWordRight, 'd': actKillWordRight}

var kindBindings = map[KeyKind]action{
	KeyEnter: actEnter, KeyTab: actComplete, KeyBackspace: actBackspace,
	KeyDelete: actDelete, KeyLeft: actLeft, KeyRight: actRight,
	KeyHome: actHome, KeyEnd: actEnd, KeyUp: actHistPrev, KeyDown: actHistNext,
	KeyEscape: actCancel,
}

// binding returns the action of k.
func binding(k Key) action {
	switch {
	case k.Kind == KeyRune && k.Mod&^ModShift == 0:
		return actInsert
	case k.Kind == KeyRune && k.Mod == ModCtrl:
		return ctrlBindings[k.Rune]
	case k.Kind == KeyRune && k.Mod == ModAlt:
		return altBindings[unicode.ToLower(k.Rune)]
	case k.Kind == KeyBackspace && k.Mod == ModAlt:
		return actKillWordLeft
	case (k.Kind == KeyLeft || k.Kind == KeyRight) && k.Mod&(ModCtrl|ModAlt) != 0:
		if k.Kind == KeyLeft {
			return actWordLeft
		}
		return actWordRight
	}
	return kindBindings[k.Kind]
}

// edit applies a cursor movement, deletion or history action.
func (e *Editor) edit(a action) {
	switch a {
	case actLeft:
		e.pos = e.clusterStart(e.pos)
	case actRight:
		e.pos = e.clusterEnd(e.pos)
	case actHome:
		e.pos = 0
	case actEnd:
		e.pos = len(e.line)
	case actWordLeft:
		e.pos = wordLeft(e.line, e.pos, isWordRune)
	case actWordRight:
		e.pos = wordRight(e.line, e.pos)
	case actBackspace:
		e.deleteRange(e.clusterStart(e.pos), e.pos)
	case actDelete:
		e.deleteRange(e.pos, e.clusterEnd(e.pos))
	case actKillEnd:
		e.killRange(e.pos, len(e.line))
	case actKillStart:
		e.killRange(0, e.pos)
	case actKillSpaceWord:
		e.killRange(wordLeft(e.line, e.pos, notSpace), e.pos)
	case actKillWordLeft:
		e.killRange(wordLeft(e.line, e.pos, isWordRune), e.pos)
	case actKillWordRight:
		e.killRange(e.pos, wordRight(e.line, e.pos))
	case actYank:
		e.line = slices.Insert(e.line, e.pos, e.kill...)
		e.pos += len(e.kill)
		e.dirty = len(e.kill) > 0
	case actTranspose:
		e.transpose()
	case actHistPrev:
		e.historyMove(-1)
	case actHistNext:
		e.historyMove(+1)
	}
}

// deleteRange removes line[from:to].
func (e *Editor) deleteRange(from, to int) {
	if from >= to {
		return
	}
	e.line = slices.Delete(e.line, from, to)
	e.pos = from
	e.dirty = true
}

// killRange removes line[from:to] into the kill buffer.
func (e *Editor) killRange(from, to int) {
	if from >= to {
		return
	}
	e.kill = slices.Clone(e.line[from:to])
	e.deleteRange(from, to)
}

// transpose swaps the characters before and at the cursor and advances;
// at the end of the line it swaps the last two (readline's transpose-chars).
func (e *Editor) transpose() {
	p := e.pos
	if p == 0 || len(e.line) < 2 {
		return
	}
	if p == len(e.line) {
		p--
	}
	e.line[p-1], e.line[p] = e.line[p], e.line[p-1]
	e.pos = p + 1
	e.dirty = true
}

// clusterStart is the index of the character before i, skipping back over
// zero-width runes (combining marks) so they move with their base.
func (e *Editor) clusterStart(i int) int {
	for i > 0 {
		i--
		if runeWidth(e.line[i]) > 0 {
			break
		}
	}
	return i
}

// clusterEnd is the index after the character at i and its combining marks.
func (e *Editor) clusterEnd(i int) int {
	if i < len(e.line) {
		i++
	}
	for i < len(e.line) && runeWidth(e.line[i]) == 0 {
		i++
	}
	return i
}

// isWordRune is readline's notion of a word character: letters and digits.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func notSpace(r rune) bool { return !unicode.IsSpace(r) }

// wordLeft returns the start of the word before pos: skip non-word runes
// backwards, then word runes.
func wordLeft(line []rune, pos int, word func(rune) bool) int {
	for pos > 0 && !word(line[pos-1]) {
		pos--
	}
	for pos > 0 && word(line[pos-1]) {
		pos--
	}
	return pos
}

// wordRight returns the end of the word at or after pos.
func wordRight(line []rune, pos int) int {
	for pos < len(line) && !isWordRune(line[pos]) {
		pos++
	}
	for pos < len(line) && isWordRune(line[pos]) {
		pos++
	}
	return pos
}

// historyMove shows the entry delta steps away (-1 older, +1 newer); the
// line being typed is kept aside and comes back past the newest entry.
func (e *Editor) historyMove(delta int) {
	n := e.hidx + delta
	if n < 0 || n > len(e.hist.entries) {
		return
	}
	if e.hidx == len(e.hist.entries) {
		e.hpending = slices.Clone(e.line)
	}
	e.hidx = n
	if n == len(e.hist.entries) {
		e.line = e.hpending
	} else {
		e.line = toRunes(e.hist.entries[n])
	}
	e.pos = len(e.line)
	e.dirty = true
}

// searchState is an incremental reverse search (Ctrl-R) in progress.
type searchState struct {
	entries  []string
	query    []rune
	idx      int // entry matched, -1 for none yet
	at       int // rune index of the match in it
	failed   bool
	origLine []rune
	origPos  int
}

func (s *searchState) prompt() string {
	failed := ""
	if s.failed {
		failed = "failed "
	}
	return "(" + failed + "reverse-i-search)'" + sanitize(string(s.query)) + "': "
}

func (s *searchState) line() []rune {
	if s.idx < 0 {
		return s.origLine
	}
	return toRunes(s.entries[s.idx])
}

func (s *searchState) pos() int {
	if s.idx < 0 {
		return s.origPos
	}
	return s.at
}

// find looks for the query in entries from index from down to the oldest.
// Without a match the previous one stays and the search is marked failed.
func (s *searchState) find(from int) {
	q := string(s.query)
	for i := min(from, len(s.entries)-1); i >= 0; i-- {
		if j := strings.Index(s.entries[i], q); j >= 0 {
			s.idx, s.at, s.failed = i, utf8.RuneCountInString(s.entries[i][:j]), false
			return
		}
	}
	s.failed = true
}

func (e *Editor) startSearch() {
	e.search = &searchState{
		entries: e.hist.entries, idx: -1,
		origLine: slices.Clone(e.line), origPos: e.pos,
	}
	e.refresh()
}

// searchKey handles k during a reverse search and reports whether it did;
// if not, the match has been accepted into the line and k is to be handled
// as usual (readline's behaviour).
func (e *Editor) searchKey(k Key) bool {
	s := e.search
	switch a := binding(k); a {
	case actInsert:
		s.query = append(s.query, k.Rune)
		from := s.idx // the current match may still match the longer query
		if from < 0 {
			from = len(s.entries) - 1
		}
		s.find(from)
	case actSearch:
		if len(s.query) > 0 {
			s.find(s.idx - 1)
		}
	case actBackspace:
		if len(s.query) > 0 {
			s.query = s.query[:len(s.query)-1]
			s.idx, s.failed = -1, false
			if len(s.query) > 0 {
				s.find(len(s.entries) - 1)
			}
		}
	case actCancel:
		e.line, e.pos = s.origLine, s.origPos
		e.search = nil
	case actInterrupt:
		return false // interrupt() erases the search view
	default:
		e.acceptSearch()
		return false
	}
	e.refresh()
	return true
}

// acceptSearch puts the match in the line, with the cursor on it, and
// positions history there so Up/Down continue from the match.
func (e *Editor) acceptSearch() {
	s := e.search
	e.search = nil
	if s.idx >= 0 {
		if e.hidx == len(e.hist.entries) {
			e.hpending = s.origLine
		}
		e.hidx = s.idx
		e.line, e.pos = s.line(), s.at
	}
	e.refresh()
}
