package config

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/scanner"
	"github.com/goccy/go-yaml/token"
)

// Limits on what a config file can make taskmaster do. The master parses
// the file as root on every reload, so a hostile or broken file must fail
// fast rather than take a core and the reload lock for good (issue 10,
// point 8). goccy/go-yaml's parser recurses once per nesting level and
// once per entry of a block collection, and copies the entries it has
// gathered at every level, so its time grows with the square of a
// collection's size; aliases and merge keys can expand a small file
// exponentially (the "billion laughs"). Each cost is bounded before the
// parser or the decoder pays it.
const (
	// MaxFileSize bounds the config file; it is read with this limit.
	MaxFileSize = 1 << 20
	// maxDepth bounds the nesting of collections, block or flow. A config
	// needs about five levels (programs.NAME.env.KEY).
	maxDepth = 64
	// maxEntries bounds the entries of one mapping or list, and the
	// documents of one file; maxAllEntries those of the whole file. The
	// parser's time grows with the square of a block mapping's entries,
	// so at most with maxEntries times maxAllEntries.
	maxEntries    = 1000
	maxAllEntries = 30_000
	// maxEmpty bounds the entries with an empty value ("key:" then a line
	// at the same indentation): the parser inserts a token for each into
	// its token slice, moving the tokens after it.
	maxEmpty = 1000
	// maxTokens bounds the YAML tokens of the file.
	maxTokens = 200_000
	// The alias expansion budget: the nodes the document would hold if
	// every alias were replaced by a copy of its anchor's value may be at
	// most minExpansion or expansionPerByte per byte of the file,
	// whichever is more.
	minExpansion     = 100_000
	expansionPerByte = 2
)

// readFile reads a config file of at most MaxFileSize bytes (a longer one
// is returned with one byte more, for Parse to refuse). It opens without
// blocking and reads only a regular file: a FIFO or a device named as the
// config must fail, never hang the master or `taskmaster check`.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("load config %s: %s, not a regular file", path, fileKind(fi.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return data, nil
}

// fileKind names a file type that is not a regular file.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// checkSize refuses a file over MaxFileSize.
func (d *decoder) checkSize(data []byte) bool {
	if len(data) <= MaxFileSize {
		return true
	}
	d.errorAt(1, 1, "", "the file is larger than %d bytes (1 MiB), the limit for a config file", MaxFileSize)
	return false
}

// shapeScan follows the token stream to bound nesting and the size of
// each collection before the parser sees it. It tracks the open block
// collections by the column of their entries, and the open flow ones by
// their brackets; it does not need to agree with the parser on every
// malformed input, only to count at least one level per level the parser
// would recurse into and one entry per entry it would gather.
type shapeScan struct {
	block   []collection // open block collections, innermost last
	flow    []collection // open flow collections, innermost last
	docs    int
	entries int // in the whole file
	empty   int // entries with an empty value
}

type collection struct {
	col     int
	seq     bool // a sequence ("-" entries) rather than a mapping
	entries int
	valued  bool // flow mapping: the current entry has a ':'
}

// tokenize is lexer.Tokenize that stops after maxTokens+1 tokens.
func tokenize(src string) token.Tokens {
	var s scanner.Scanner
	s.Init(src)
	var tokens token.Tokens
	for len(tokens) <= maxTokens {
		more, err := s.Scan()
		if err == io.EOF {
			break
		}
		tokens.Add(more...) // an error comes as an invalid token, for the parser to report

	}
	return tokens
}

// checkShape reports the first token that makes the file too big, too
// deep or too wide, located where it stands.
func (d *decoder) checkShape(tokens token.Tokens) bool {
	var s shapeScan
	for i := range tokens {
		msg := s.next(tokens, i)
		if i == maxTokens {
			msg = fmt.Sprintf("too many YAML tokens (more than %d)", maxTokens)
		}
		if msg != "" {
			line, col := tokenPosition(tokens, i)
			d.errorAt(line, col, "", "%s", msg)
			return false
		}
	}
	return true
}

// tokenPosition locates tokens[i] for a message; a key's ':' is located
// at its key.
func tokenPosition(tokens token.Tokens, i int) (int, int) {
	line, col := locate(tokens[i])
	if tokens[i].Type == token.MappingValueType {
		if c, ok := keyColumn(tokens, i); ok {
			col = c
		}
	}
	return line, col
}

// next takes tokens[i] into account and says what limit it breaks, if any.
func (s *shapeScan) next(tokens token.Tokens, i int) string {
	tk := tokens[i]
	if s.emptyValue(tokens, i) { // before structure: it reads the state before tk
		if s.empty++; s.empty > maxEmpty {
			return fmt.Sprintf("too many empty values (more than %d)", maxEmpty)
		}
	}
	if msg := s.structure(tokens, i); msg != "" {
		return msg
	}
	if len(s.block)+len(s.flow) > maxDepth {
		return fmt.Sprintf("nested too deeply (more than %d levels)", maxDepth)
	}
	if tk.Type == token.DocumentHeaderType {
		if s.docs++; s.docs > maxEntries {
			return fmt.Sprintf("too many documents (more than %d)", maxEntries)
		}
	}
	return ""
}

// structure opens, closes and counts collections at tokens[i].
func (s *shapeScan) structure(tokens token.Tokens, i int) string {
	tk := tokens[i]
	switch tk.Type {
	case token.DocumentHeaderType, token.DocumentEndType:
		s.block, s.flow = s.block[:0], s.flow[:0]
	case token.SequenceStartType:
		s.flow = append(s.flow, collection{seq: true, entries: 1})
	case token.MappingStartType:
		s.flow = append(s.flow, collection{entries: 1})
	case token.SequenceEndType, token.MappingEndType:
		if len(s.flow) > 0 {
			s.flow = s.flow[:len(s.flow)-1]
		}
	case token.CollectEntryType:
		if n := len(s.flow); n > 0 {
			s.flow[n-1].entries++
			s.flow[n-1].valued = false
			return s.count(s.flow[n-1])
		}
	case token.MappingValueType:
		if n := len(s.flow); n > 0 {
			s.flow[n-1].valued = true
		} else if col, ok := keyColumn(tokens, i); ok {
			return s.blockEntry(col, false)
		}
	case token.SequenceEntryType, token.MappingKeyType:
		if len(s.flow) == 0 {
			return s.blockEntry(tk.Position.Column, tk.Type == token.SequenceEntryType)
		}
	}
	return ""
}

// emptyValue reports whether tokens[i] ends an entry whose value the
// parser will fill with a null token: a block key or "-" followed by a
// line no deeper, a flow ':' followed by ',' or '}', a flow mapping entry
// without ':'. It may count a few more than the parser does, never fewer.
func (s *shapeScan) emptyValue(tokens token.Tokens, i int) bool {
	tk := tokens[i]
	if n := len(s.flow); n > 0 {
		if tk.Type == token.MappingValueType {
			next := nextToken(tokens, i)
			return next != nil && (next.Type == token.CollectEntryType || next.Type == token.MappingEndType)
		}
		top := s.flow[n-1]
		return !top.seq && !top.valued && tk.Type == token.CollectEntryType && i > 0 && tokens[i-1].Type != token.CollectEntryType
	}
	if tk.Type != token.MappingValueType && tk.Type != token.SequenceEntryType && tk.Type != token.MappingKeyType {
		return false
	}
	col := tk.Position.Column
	if tk.Type == token.MappingValueType {
		c, ok := keyColumn(tokens, i)
		if !ok {
			return false
		}
		col = c
	}
	next := nextToken(tokens, i)
	return next != nil && next.Position.Line > tk.Position.Line && next.Position.Column <= col
}

// nextToken is the token after tokens[i], comments skipped; nil at the end.
func nextToken(tokens token.Tokens, i int) *token.Token {
	for _, tk := range tokens[i+1:] {
		if tk.Type != token.CommentType {
			return tk
		}
	}
	return nil
}

// blockEntry counts an entry of a block collection at column col: it
// closes the collections indented deeper, and opens a new one unless col
// continues the innermost. A list may sit at its key's column; a key at
// that column ends the list.
func (s *shapeScan) blockEntry(col int, seq bool) string {
	for n := len(s.block); n > 0; n = len(s.block) {
		top := s.block[n-1]
		if top.col < col || (top.col == col && (top.seq == seq || seq)) {
			break
		}
		s.block = s.block[:n-1]
	}
	if n := len(s.block); n > 0 && s.block[n-1].col == col && s.block[n-1].seq == seq {
		s.block[n-1].entries++
		return s.count(s.block[n-1])
	}
	s.block = append(s.block, collection{col: col, seq: seq, entries: 1})
	return s.count(s.block[len(s.block)-1])
}

// count checks the limits on entries after one more in c.
func (s *shapeScan) count(c collection) string {
	switch s.entries++; {
	case s.entries > maxAllEntries:
		return fmt.Sprintf("too many entries in the file (more than %d)", maxAllEntries)
	case c.entries <= maxEntries:
		return ""
	case c.seq:
		return fmt.Sprintf("too many entries in one list (more than %d)", maxEntries)
	}
	return fmt.Sprintf("too many entries in one mapping (more than %d)", maxEntries)
}

// keyColumn returns the column of the key that the ":" at tokens[i]
// ends, counting an anchor or a tag written before the key. ok is false
// for a ":" that starts its line (the value of an explicit "? key"),
// already counted at its "?".
func keyColumn(tokens token.Tokens, i int) (int, bool) {
	line := tokens[i].Position.Line
	j := i - 1
	if j < 0 || tokens[j].Position.Line != line || tokens[j].Type == token.MappingKeyType {
		return 0, false
	}
	for j > 0 && tokens[j-1].Position.Line == line && (tokens[j-1].Type == token.AnchorType || tokens[j-1].Type == token.TagType) {
		j--
	}
	return tokens[j].Position.Column, true
}

func locate(tk *token.Token) (int, int) {
	if tk == nil || tk.Position == nil {
		return 1, 1
	}
	return max(tk.Position.Line, 1), max(tk.Position.Column, 1)
}

// expansion walks the parsed document in order, as an alias-expanding
// decoder would meet its nodes, without expanding anything: it counts the
// nodes the expansion would produce (an alias counts the size of its
// anchor's value, known since the anchor came first) and stops at the
// budget. Along the way it binds every alias to its anchor, the latest of
// that name before it (YAML 1.2 §3.2.2.2), so the decoder resolves
// aliases in constant time.
type expansion struct {
	budget int
	total  int
	latest map[string]*ast.AnchorNode
	size   map[*ast.AnchorNode]int // an anchor's expanded size; -1 while inside it
	target map[*ast.AliasNode]*ast.AnchorNode
	cyclic map[*ast.AliasNode]bool // aliases inside their own anchor
}

// checkExpansion runs the walk over body and keeps the alias bindings.
func (d *decoder) checkExpansion(body ast.Node, fileSize int) bool {
	x := &expansion{
		budget: max(minExpansion, expansionPerByte*fileSize),
		latest: map[string]*ast.AnchorNode{},
		size:   map[*ast.AnchorNode]int{},
		target: map[*ast.AliasNode]*ast.AnchorNode{},
		cyclic: map[*ast.AliasNode]bool{},
	}
	if n, msg := x.walk(body); msg != "" {
		d.errorf(n, "", "%s", msg)
		return false
	}
	d.aliases, d.cyclic = x.target, x.cyclic
	return true
}

// walk counts n and what it holds; on a broken limit it returns the node
// where it happened and why.
func (x *expansion) walk(n ast.Node) (ast.Node, string) {
	switch t := n.(type) {
	case nil:
		return nil, ""
	case *ast.AnchorNode:
		name := anchorName(t)
		x.latest[name], x.size[t] = t, -1
		before := x.total
		if at, msg := x.walk(t.Value); msg != "" {
			return at, msg
		}
		x.size[t] = x.total - before
		return nil, ""
	case *ast.AliasNode:
		x.total++ // an unknown anchor is the decoder's to report
		// An alias inside its own anchor stays unbound: expanding it would
		// never end. The decoder reports it where it is used.
		if a := x.latest[aliasName(t)]; a != nil && x.size[a] >= 0 {
			x.target[t] = a
			x.total += x.size[a]
		} else if a != nil {
			x.cyclic[t] = true
		}
	default:
		x.total++
	}
	if x.total > x.budget {
		return n, fmt.Sprintf("too many alias expansions (the document would expand to more than %d nodes)", x.budget)
	}
	for _, c := range children(n) {
		if at, msg := x.walk(c); msg != "" {
			return at, msg
		}
	}
	return nil, ""
}

// children lists the nodes n holds, in document order. Scalars hold none.
func children(n ast.Node) []ast.Node {
	switch t := n.(type) {
	case *ast.MappingNode:
		out := make([]ast.Node, len(t.Values))
		for i, v := range t.Values {
			out[i] = v
		}
		return out
	case *ast.MappingValueNode:
		return []ast.Node{t.Key, t.Value}
	case *ast.MappingKeyNode:
		return []ast.Node{t.Value}
	case *ast.SequenceNode:
		return t.Values
	case *ast.TagNode:
		return []ast.Node{t.Value}
	}
	return nil
}

func anchorName(a *ast.AnchorNode) string {
	if a.Name == nil {
		return ""
	}
	return a.Name.GetToken().Value
}
