package supervisord

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Key is one option of a section, as Python's RawConfigParser keeps it: its
// name lower-cased, its value with continuation lines joined by "\n" and
// trailing whitespace removed, and where its first line is.
type Key struct {
	Name  string
	Value string
	File  string
	Line  int
}

// Section is one [name] of the merged config. A section named in several
// files or several times is one Section (later keys win), as ConfigParser
// with strict=False does.
type Section struct {
	Name string
	File string // where it first appeared
	Line int
	Keys []*Key // in the order first written
}

// Get returns the section's key name (lower-case), or nil.
func (s *Section) Get(name string) *Key {
	for _, k := range s.Keys {
		if k.Name == name {
			return k
		}
	}
	return nil
}

func (s *Section) set(k *Key) {
	for i, old := range s.Keys {
		if old.Name == k.Name {
			s.Keys[i] = k
			return
		}
	}
	s.Keys = append(s.Keys, k)
}

// INI is the merged content of a supervisor config and its includes.
type INI struct {
	Sections []*Section // in the order first seen; never holds DEFAULT
	Defaults *Section   // [DEFAULT]: every section falls back on its keys
	Headers  []Header   // every [name] line read, in order
}

// Header is one [name] line.
type Header struct {
	Name string
	File string
	Line int
}

// NewINI returns an empty INI.
func NewINI() *INI { return &INI{Defaults: &Section{Name: "DEFAULT"}} }

// Section returns the section called name, or nil.
func (c *INI) Section(name string) *Section {
	for _, s := range c.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Lookup returns the key of section s, falling back on [DEFAULT] as
// ConfigParser.get does; nil when neither has it.
func (c *INI) Lookup(s *Section, name string) *Key {
	if k := s.Get(name); k != nil {
		return k
	}
	return c.Defaults.Get(name)
}

// Keys lists s's keys followed by the [DEFAULT] keys it does not override,
// as ConfigParser.items does.
func (c *INI) Keys(s *Section) []*Key {
	keys := append([]*Key(nil), s.Keys...)
	for _, k := range c.Defaults.Keys {
		if s.Get(k.Name) == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// Parse reads one file into c, with the semantics of the RawConfigParser
// supervisor uses (inline_comment_prefixes ";" and "#", strict=False):
//   - a line whose first non-space character is ";" or "#" is a comment;
//     elsewhere ";" and "#" start a comment only after whitespace;
//   - "[name]" opens a section (a name seen before is reopened);
//   - "key = value" or "key: value" sets a key (split at the first "=" or
//     ":"), its name lower-cased;
//   - a line indented deeper than its key's line continues the value, and
//     so do blank lines in between (trailing ones are dropped).
//
// Lines end at "\n", "\r\n" or "\r" (Python's universal newlines). The
// first problem is returned as an *Error naming file and line; c keeps what
// was read before it, which callers must not use.
func (c *INI) Parse(file string, data []byte) error {
	if !utf8.Valid(data) {
		line := 1 + strings.Count(string(data[:firstInvalid(data)]), "\n")
		return &Error{File: file, Line: line, Msg: "not valid UTF-8"}
	}
	p := iniParser{ini: c, file: file}
	for n, line := range splitLines(string(data)) {
		if err := p.line(n+1, line); err != nil {
			return err
		}
	}
	p.finish()
	return nil
}

func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// splitLines splits at universal newlines, each line without its ending.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// iniParser is the state of one Parse: the section being filled and the
// key whose value continuation lines extend.
type iniParser struct {
	ini    *INI
	file   string
	sect   *Section
	key    *Key
	parts  []string // the value lines of key, joined at finish
	indent int      // the indent of the last key or section line
}

func (p *iniParser) line(n int, line string) error {
	cut, comment := commentStart(line)
	value := strings.TrimFunc(line[:cut], isPySpace)
	if value == "" {
		// An empty line is part of a value, unless it held a comment.
		if !comment && p.key != nil {
			p.parts = append(p.parts, "")
		}
		return nil
	}
	indent := indentOf(line)
	if p.key != nil && indent > p.indent {
		p.parts = append(p.parts, value)
		return nil
	}
	p.indent = indent
	if name, ok := sectionHeader(value); ok {
		p.endKey()
		p.openSection(name, n)
		return nil
	}
	if p.sect == nil {
		return &Error{File: p.file, Line: n, Msg: fmt.Sprintf("no section header before %q", line)}
	}
	name, val, ok := optionLine(value)
	if !ok || name == "" {
		return &Error{File: p.file, Line: n, Msg: fmt.Sprintf("parsing error: %q is neither [section] nor key = value", line)}
	}
	p.endKey()
	p.key = &Key{Name: strings.ToLower(name), File: p.file, Line: n}
	p.parts = []string{val}
	return nil
}

func (p *iniParser) openSection(name string, n int) {
	p.ini.Headers = append(p.ini.Headers, Header{Name: name, File: p.file, Line: n})
	switch {
	case name == "DEFAULT":
		p.sect = p.ini.Defaults
	case p.ini.Section(name) != nil:
		p.sect = p.ini.Section(name)
	default:
		p.sect = &Section{Name: name, File: p.file, Line: n}
		p.ini.Sections = append(p.ini.Sections, p.sect)
	}
}

// endKey stores the key being read, its lines joined.
func (p *iniParser) endKey() {
	if p.key == nil {
		return
	}
	p.key.Value = strings.TrimRightFunc(strings.Join(p.parts, "\n"), isPySpace)
	p.sect.set(p.key)
	p.key, p.parts = nil, nil
}

func (p *iniParser) finish() { p.endKey() }

// commentStart returns where the comment of line starts (len(line) when it
// has none) and whether it has one. It follows Python 3's
// RawConfigParser._read to the letter, quirk included: each round looks at
// the next ";" and the next "#", and the first round that finds one at the
// start or after whitespace wins, even if the other prefix has a later
// valid occurrence that comes earlier in the line.
func commentStart(line string) (int, bool) {
	if t := strings.TrimFunc(line, isPySpace); strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
		return 0, true
	}
	from := map[byte]int{';': -1, '#': -1}
	for len(from) > 0 {
		best := math.MaxInt
		for prefix, at := range from {
			i := strings.IndexByte(line[at+1:], prefix)
			if i < 0 {
				delete(from, prefix)
				continue
			}
			i += at + 1
			from[prefix] = i
			if i == 0 || afterSpace(line, i) {
				best = min(best, i)
			}
		}
		if best != math.MaxInt {
			return best, true
		}
	}
	return len(line), false
}

func afterSpace(line string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(line[:i])
	return isPySpace(r)
}

// isPySpace is Python's str.isspace for one character: Go's unicode.IsSpace
// plus the information separators U+001C to U+001F.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// indentOf counts the characters (not bytes) before the first non-space
// one, as Python's re \S search does.
func indentOf(line string) int {
	n := 0
	for _, r := range line {
		if !isPySpace(r) {
			return n
		}
		n++
	}
	return 0
}

// sectionHeader matches Python's `\[(?P<header>.+)\]` at the start of the
// stripped line: the header runs to the last "]", text after it is ignored.
func sectionHeader(value string) (string, bool) {
	if value[0] != '[' {
		return "", false
	}
	end := strings.LastIndexByte(value, ']')
	if end < 2 {
		return "", false
	}
	return value[1:end], true
}

// optionLine splits at the first "=" or ":", stripping both sides.
func optionLine(value string) (name, val string, ok bool) {
	i := strings.IndexAny(value, "=:")
	if i < 0 {
		return "", "", false
	}
	return strings.TrimRightFunc(value[:i], isPySpace), strings.TrimFunc(value[i+1:], isPySpace), true
}
