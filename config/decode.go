package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// decoder walks one YAML document and collects every problem instead of
// stopping at the first. It lives for one Parse call.
type decoder struct {
	file    string // the path as the caller passed it, for messages
	dir     string // absolute folder of the file
	env     Env
	errs    Errors
	seen    map[errKey]bool                    // positions already reported
	aliases map[*ast.AliasNode]*ast.AnchorNode // each alias's anchor; see expansion
	cyclic  map[*ast.AliasNode]bool            // aliases inside their own anchor
	// defaults are the valid entries of `defaults:`, for every program
	// that does not set them (see decodeDefaults).
	defaults []entry
}

// errKey identifies a value: one problem per value is enough, and the
// first is the most precise (an unknown alias, say, rather than the type
// mismatch it causes).
type errKey struct {
	line, col int
	path      string
}

// maxAliasDepth bounds alias and merge-key resolution. A config needs a
// handful. Cycles (&a {<<: *a}) never get here: the expansion walk leaves
// an alias inside its own anchor unbound (limits.go).
const maxAliasDepth = 16

// errorf records a problem located at node n.
func (d *decoder) errorf(n ast.Node, path, format string, args ...any) {
	line, col := position(n)
	d.errorAt(line, col, path, format, args...)
}

func (d *decoder) errorAt(line, col int, path, format string, args ...any) {
	k := errKey{line, col, path}
	if d.seen[k] {
		return
	}
	if d.seen == nil {
		d.seen = map[errKey]bool{}
	}
	d.seen[k] = true
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Col: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// position returns n's 1-based line and column, or 1:1 when the parser gave
// none (an empty document has no node at all).
func position(n ast.Node) (int, int) {
	if n == nil {
		return 1, 1
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 1, 1
	}
	return max(tk.Position.Line, 1), max(tk.Position.Column, 1)
}

// value is a node together with the key path that leads to it, so helpers
// can report problems without being told where they are.
type value struct {
	node ast.Node
	path string
}

// scalarKind is how YAML typed a scalar. Helpers use it to reject, say, a
// list where a number belongs; they read the text themselves.
type scalarKind int

const (
	kindString scalarKind = iota
	kindInt
	kindFloat
	kindBool
	kindNull
)

// scalar is a resolved scalar: text is the unquoted string for strings and
// the literal token text for everything else, so `022` stays "022" rather
// than becoming 22 or 18.
type scalar struct {
	kind scalarKind
	text string
}

// resolve strips anchors, tags and aliases off n and returns the node that
// holds the data. An alias refers to the latest anchor of that name before
// it, as YAML 1.2 §3.2.2.2 says. forceString reports a !!str tag. ok is
// false (and a problem recorded) for an unknown alias or a chain too deep.
func (d *decoder) resolve(v value) (n ast.Node, forceString, ok bool) {
	n = v.node
	for range maxAliasDepth {
		switch t := n.(type) {
		case *ast.AnchorNode:
			n = t.Value
		case *ast.TagNode:
			forceString = forceString || t.Start.Value == "!!str"
			n = t.Value
		case *ast.AliasNode:
			target := d.aliases[t]
			if d.cyclic[t] {
				d.errorf(v.node, v.path, "alias %q refers to the node that holds it", aliasName(t))
				return nil, false, false
			}
			if target == nil {
				d.errorf(v.node, v.path, "unknown anchor %q", aliasName(t))
				return nil, false, false
			}
			n = target.Value
		default:
			return n, forceString, true
		}
	}
	d.errorf(v.node, v.path, "aliases nested too deeply")
	return nil, false, false
}

func aliasName(a *ast.AliasNode) string {
	if a.Value == nil {
		return ""
	}
	return a.Value.GetToken().Value
}

// scalarOf returns v as a scalar, or ok=false if it is a mapping or a list
// (no problem is recorded: the caller knows what it expected).
func (d *decoder) scalarOf(v value) (scalar, bool) {
	n, forceString, ok := d.resolve(v)
	if !ok {
		return scalar{}, false
	}
	s, ok := scalarNode(n)
	if ok && forceString {
		s.kind = kindString
	}
	return s, ok
}

func scalarNode(n ast.Node) (scalar, bool) {
	switch t := n.(type) {
	case nil:
		return scalar{kind: kindNull}, true
	case *ast.StringNode:
		return scalar{kind: kindString, text: t.Value}, true
	case *ast.LiteralNode:
		if t.Value == nil {
			return scalar{kind: kindString}, true
		}
		return scalar{kind: kindString, text: t.Value.Value}, true
	case *ast.IntegerNode:
		return scalar{kind: kindInt, text: t.Token.Value}, true
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return scalar{kind: kindFloat, text: t.GetToken().Value}, true
	case *ast.BoolNode:
		return scalar{kind: kindBool, text: t.Token.Value}, true
	case *ast.NullNode:
		return scalar{kind: kindNull}, true
	}
	return scalar{}, false
}

// describe says what v holds, for "expected X, got Y" messages.
func (d *decoder) describe(v value) string {
	n, _, ok := d.resolve(v)
	if !ok {
		return "an alias"
	}
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	s, ok := scalarNode(n)
	switch {
	case !ok:
		return "a " + strings.ToLower(n.Type().String())
	case s.kind == kindNull:
		return "null"
	}
	return fmt.Sprintf("%q", s.text)
}

// entry is one key of a mapping, after merge keys are applied.
type entry struct {
	key     string
	keyNode ast.Node
	val     value
}

// mapping returns v's entries in file order, explicit keys first and then
// those merged in with `<<`, which never override an explicit key. It
// records duplicate keys and non-string keys. ok is false if v is not a
// mapping; null counts as an empty mapping when nullOK.
func (d *decoder) mapping(v value, nullOK bool) ([]entry, bool) {
	return d.mappingDepth(v, nullOK, 0)
}

func (d *decoder) mappingDepth(v value, nullOK bool, depth int) ([]entry, bool) {
	if depth > maxAliasDepth {
		d.errorf(v.node, v.path, "merge keys nested too deeply")
		return nil, false
	}
	n, _, ok := d.resolve(v)
	if !ok {
		return nil, false
	}
	pairs, isMap := mappingPairs(n)
	if !isMap {
		if s, isScalar := scalarNode(n); isScalar && s.kind == kindNull && nullOK {
			return nil, true
		}
		d.errorf(v.node, v.path, "expected a mapping, got %s", d.describe(v))
		return nil, false
	}
	var own, merged []entry
	seen := map[string]ast.Node{}
	for _, kv := range pairs {
		if kv.Key != nil && kv.Key.IsMergeKey() {
			merged = append(merged, d.merge(value{node: kv.Value, path: v.path}, depth)...)
			continue
		}
		if e, ok := d.ownEntry(v, kv, seen); ok {
			own = append(own, e)
		}
	}
	for _, e := range merged {
		if _, dup := seen[e.key]; !dup {
			seen[e.key] = e.keyNode
			own = append(own, e)
		}
	}
	return own, true
}

// mappingPairs returns a mapping's key/value pairs; goccy may represent a
// one-key mapping as a bare MappingValueNode.
func mappingPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch t := n.(type) {
	case *ast.MappingNode:
		return t.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{t}, true
	}
	return nil, false
}

func (d *decoder) ownEntry(parent value, kv *ast.MappingValueNode, seen map[string]ast.Node) (entry, bool) {
	key, ok := d.keyText(parent, kv.Key)
	if !ok {
		return entry{}, false
	}
	if first, dup := seen[key]; dup {
		line, _ := position(first)
		d.errorf(kv.Key, joinPath(parent.path, key), "duplicate key (first defined on line %d)", line)
		return entry{}, false
	}
	seen[key] = kv.Key
	return entry{key: key, keyNode: kv.Key, val: value{node: kv.Value, path: joinPath(parent.path, key)}}, true
}

func (d *decoder) keyText(parent value, k ast.MapKeyNode) (string, bool) {
	s, ok := d.scalarOf(value{node: k, path: parent.path})
	if !ok || s.kind == kindNull {
		d.errorf(k, parent.path, "expected a key, got %s", d.describe(value{node: k, path: parent.path}))
		return "", false
	}
	return s.text, true
}

// merge returns the entries a `<<` value brings in: one mapping or a list
// of them, earlier mappings winning (YAML merge key spec).
func (d *decoder) merge(v value, depth int) []entry {
	n, _, ok := d.resolve(v)
	if !ok {
		return nil
	}
	seq, isSeq := n.(*ast.SequenceNode)
	if !isSeq {
		es, _ := d.mappingDepth(v, false, depth+1)
		return es
	}
	var all []entry
	for _, item := range seq.Values {
		es, _ := d.mappingDepth(value{node: item, path: v.path}, false, depth+1)
		all = append(all, es...)
	}
	return all
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// absPath makes p absolute against the config's folder and cleans it.
func (d *decoder) absPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(d.dir, p)
}
