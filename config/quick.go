package config

import "strings"

// The quick reader: `taskmaster ctl -c FILE` and `taskmaster state -c FILE`
// need only the `taskmaster:` section (the socket, the rundir), and a full
// parse of a file of 1000 programs costs them 80 ms (issue 12) where the
// command itself costs 4. QuickGlobal finds the section with a line
// scanner and decodes only it, with the decoder the full load uses. It
// answers only for a file plainly structured enough that the line scanner
// is sure to see what the YAML parser sees, and sure the full load would
// read the section without a syntax error or a broken limit: block
// mappings of plain keys, one-line scalars, lists of one-line scalars,
// spaces for indentation, ASCII. Anything else (flow collections, block
// scalars, anchors, aliases, merge keys, tags, multi-line scalars,
// document markers, tabs, a repeated taskmaster key...) makes it decline,
// and the caller does the full load. Whenever it answers, the answer is
// the full load's (quick_test.go and FuzzQuickGlobal check it).

// QuickGlobal returns the taskmaster section of the config file at path,
// as Load, LoadGlobal and ControlGlobal would return it, without parsing
// the rest of the file. ok is false when the file cannot be read or is
// not plainly structured, or the section has any problem: the caller then
// does the full load, which reports what is wrong.
func QuickGlobal(path string) (*Global, bool) {
	data, err := readFile(path)
	if err != nil {
		return nil, false
	}
	return quickGlobal(path, data)
}

func quickGlobal(path string, data []byte) (*Global, bool) {
	if len(data) > MaxFileSize {
		return nil, false
	}
	section, ok := scanPlain(data)
	if !ok {
		return nil, false
	}
	d, err := newDecoder(path)
	if err != nil {
		return nil, false
	}
	c := &Config{Global: defaultGlobal(d.dir, d.env.Home)}
	if section == nil {
		return &c.Global, true
	}
	file, err := parseYAML(tokenize(string(section)))
	if err != nil || len(file.Docs) != 1 {
		return nil, false
	}
	entries, ok := d.mapping(value{node: file.Docs[0].Body}, false)
	if !ok || len(entries) != 1 || entries[0].key != "taskmaster" {
		return nil, false
	}
	d.decodeGlobal(c, entries[0].val)
	if len(d.errs) > 0 {
		return nil, false
	}
	return &c.Global, true
}

// plainLine is one line of a plainly structured file.
type plainLine struct {
	indent int
	item   bool   // "- value", else "key: value"
	key    string // a mapping entry's key
	empty  bool   // a key with no value on its line: a block follows, or null
}

// plainScan is the state of scanPlain: the open block collections, by
// indentation, and the counts that limits.go bounds.
type plainScan struct {
	levels  []collection // col is the indentation; innermost last
	opener  plainLine    // the previous line, when open
	open    bool         // the previous line was a key with no value
	entries int
	empty   int
	tokens  int
}

// scanPlain checks that data is plainly structured, within every limit
// of limits.go, and returns its top-level taskmaster entry (the key's line
// and the lines indented under it), nil when there is none.
func scanPlain(data []byte) ([]byte, bool) {
	for _, b := range data {
		if (b < ' ' && b != '\n') || b >= 0x7f {
			return nil, false // tabs, CR, controls, non-ASCII line breaks or BOMs
		}
	}
	var s plainScan
	text := string(data)
	start, end, found := -1, -1, false
	for off := 0; off < len(text); {
		line := text[off:]
		next := len(text)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		pl, content, ok := parseLine(line)
		if !ok || (content && !s.add(pl)) {
			return nil, false
		}
		if content && pl.indent == 0 {
			if start >= 0 && end < 0 {
				end = off
			}
			if pl.key == "taskmaster" {
				if found {
					return nil, false // a repeated key: the decoder's to report
				}
				start, found = off, true
			}
		}
		off = next
	}
	if !s.finish() {
		return nil, false
	}
	if !found {
		return nil, true
	}
	if end < 0 {
		end = len(data)
	}
	return data[start:end], true
}

// add takes a content line into the structure; false when the line does
// not continue it plainly or breaks a limit.
func (s *plainScan) add(pl plainLine) bool {
	if s.tokens += 5; s.tokens > maxTokens { // "- key: value # comment" at most
		return false
	}
	switch {
	case len(s.levels) == 0:
		if pl.indent != 0 || pl.item {
			return false // the document is a mapping whose keys start their lines
		}
		s.levels = append(s.levels, collection{col: 0})
	case s.open && pl.indent > s.opener.indent:
		s.levels = append(s.levels, collection{col: pl.indent, seq: pl.item})
	default:
		if s.open {
			s.empty++ // the opener's value is null
		}
		for len(s.levels) > 0 && s.levels[len(s.levels)-1].col > pl.indent {
			s.levels = s.levels[:len(s.levels)-1]
		}
		if len(s.levels) == 0 {
			return false
		}
	}
	top := &s.levels[len(s.levels)-1]
	if top.col != pl.indent || top.seq != pl.item {
		return false // a list at its key's column, a deeper line after a value...
	}
	top.entries++
	s.entries++
	s.opener, s.open = pl, pl.empty
	return top.entries <= maxEntries && s.entries <= maxAllEntries &&
		s.empty <= maxEmpty && len(s.levels) <= maxDepth/2
}

// finish accounts for the file's last line.
func (s *plainScan) finish() bool {
	if s.open {
		s.empty++
	}
	return s.empty <= maxEmpty
}

// parseLine reads one line. content is false for a blank or comment line;
// ok is false for a line that is not plain.
func parseLine(line string) (pl plainLine, content, ok bool) {
	rest := strings.TrimLeft(line, " ")
	pl.indent = len(line) - len(rest)
	if rest == "" || rest[0] == '#' {
		return pl, false, true
	}
	if v, isItem := strings.CutPrefix(rest, "- "); isItem {
		pl.item = true
		v = strings.TrimLeft(v, " ")
		return pl, true, v != "" && v[0] != '#' && plainValue(v)
	}
	i := 0
	for i < len(rest) && keyByte(rest[i], i == 0) {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != ':' {
		return pl, true, false
	}
	pl.key, rest = rest[:i], rest[i+1:]
	if rest != "" && rest[0] != ' ' {
		return pl, true, false
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" || rest[0] == '#' {
		pl.empty = true
		return pl, true, true
	}
	return pl, true, plainValue(rest)
}

// keyByte reports whether b may stand in a plain key: letters, digits and
// a few punctuation marks that are no YAML indicator, '-' and '.' not
// first ("- " is a list entry, "---" and "..." document markers).
func keyByte(b byte, first bool) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '_', b == '/':
		return true
	case b == '-', b == '.':
		return !first
	}
	return false
}

// plainValue reports whether v, the rest of a line after "key: " or
// "- ", is one scalar that ends on this line, with an optional comment.
func plainValue(v string) bool {
	switch v[0] {
	case '"':
		return afterQuoted(v, closeDouble(v))
	case '\'':
		return afterQuoted(v, closeSingle(v))
	case '&', '*', '!', '|', '>', '%', '@', '`', '{', '}', '[', ']', ',', '?', ':', '#':
		return false // anchors, aliases, tags, block scalars, flow, reserved
	case '-':
		if len(v) == 1 || v[1] == ' ' {
			return false // a nested list
		}
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ':':
			if i+1 == len(v) || v[i+1] == ' ' {
				return false // a nested key
			}
		case '#':
			if v[i-1] == ' ' {
				return true // a comment ends the scalar
			}
		case '{', '}', '[', ']':
			return false
		}
	}
	return true
}

// closeDouble returns the index just after the closing quote of the
// double-quoted scalar v starts, or -1 when it does not close on the
// line or holds an escape other than the common \\ \" \n \t (the parser
// refuses some: a file that fails to parse is the full load's).
func closeDouble(v string) int {
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i++; i == len(v) || !strings.ContainsRune(`\"nt`, rune(v[i])) {
				return -1
			}
		case '"':
			return i + 1
		}
	}
	return -1
}

// closeSingle is closeDouble for a single-quoted scalar, where two
// quotes stand for one.
func closeSingle(v string) int {
	for i := 1; i < len(v); i++ {
		if v[i] != '\'' {
			continue
		}
		if i+1 < len(v) && v[i+1] == '\'' {
			i++
			continue
		}
		return i + 1
	}
	return -1
}

// afterQuoted reports whether what follows a quoted scalar ending at end
// is nothing or a comment.
func afterQuoted(v string, end int) bool {
	if end < 0 {
		return false
	}
	rest := v[end:]
	trimmed := strings.TrimLeft(rest, " ")
	return trimmed == "" || (trimmed[0] == '#' && len(trimmed) < len(rest))
}
