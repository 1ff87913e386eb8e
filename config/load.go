package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Env is what Parse needs to know about the machine, injectable so tests
// and `taskmaster check` can validate a config for another context.
type Env struct {
	// Euid is the effective uid taskmaster runs as. The zero value is root:
	// user and group may then be set.
	Euid int
	// LookupUser resolves a user name or a numeric uid. nil: os/user.
	LookupUser func(string) (*user.User, error)
	// LookupGroup resolves a group name or a numeric gid. nil: os/user.
	LookupGroup func(string) (*user.Group, error)
	// Home expands a leading "~/" in history. "": no home known; "~/" is
	// then an error and the default history goes to RUNDIR/history.
	Home string
}

// withDefaults fills the nil lookups with os/user's.
func (e Env) withDefaults() Env {
	if e.LookupUser == nil {
		e.LookupUser = lookupUser
	}
	if e.LookupGroup == nil {
		e.LookupGroup = lookupGroup
	}
	return e
}

func lookupUser(s string) (*user.User, error) {
	if isDigits(s) {
		return user.LookupId(s)
	}
	return user.Lookup(s)
}

func lookupGroup(s string) (*user.Group, error) {
	if isDigits(s) {
		return user.LookupGroupId(s)
	}
	return user.LookupGroup(s)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Load reads and validates the config file at path for this process: its
// effective uid, the system's users and groups, and $HOME. See Parse for
// what the result guarantees.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	home, _ := os.UserHomeDir() // no home only loses the default history
	return Parse(path, data, Env{Euid: os.Geteuid(), Home: home})
}

// Parse validates data, the content of the config file named path, and
// returns the config. path is used in messages and to find the folder that
// relative paths resolve against; the file itself is not read. Every
// problem found is returned at once as Errors, sorted by position; a Config
// is returned only when there is none. Parse opens nothing: it only stats
// paths and looks up users and groups.
func Parse(path string, data []byte, env Env) (*Config, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	d := &decoder{file: path, dir: dir, env: env.withDefaults()}
	cfg := d.decodeFile(data)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	return cfg, nil
}

// decodeFile parses the YAML and decodes its one document. The limits
// (limits.go) are checked on the way, each before the step it protects:
// the size before lexing, the shape before parsing, the alias expansion
// before decoding; a broken limit stops there.
func (d *decoder) decodeFile(data []byte) *Config {
	if !d.checkSize(data) {
		return nil
	}
	tokens := tokenize(string(data))
	if !d.checkShape(tokens) {
		return nil
	}
	file, err := parseYAML(tokens)
	if err != nil {
		d.syntaxError(err)
		return nil
	}
	var body ast.Node
	if len(file.Docs) > 0 {
		body = file.Docs[0].Body
	}
	if len(file.Docs) > 1 {
		d.extraDocument(file.Docs[1])
	}
	if !d.checkExpansion(body, len(data)) {
		return nil
	}
	return d.decodeRoot(value{node: body})
}

// extraDocument reports a second document, at its `---` if it has one.
func (d *decoder) extraDocument(doc *ast.DocumentNode) {
	line, col := 1, 1
	if doc.Start != nil && doc.Start.Position != nil {
		line, col = doc.Start.Position.Line, doc.Start.Position.Column
	} else if doc.Body != nil {
		line, col = position(doc.Body)
	}
	d.errorAt(line, col, "", "a config file holds one YAML document; found another")
}

// parseYAML runs goccy's parser. Duplicate keys are allowed there so that
// they are reported with every other problem rather than alone. A panic in
// the parser is turned into an error: a malformed file must never take the
// master down during a reload.
func parseYAML(tokens token.Tokens) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("yaml parser failed: %v", r)
		}
	}()
	return parser.Parse(tokens, 0, parser.AllowDuplicateMapKey())
}

// yamlError is the part of goccy's error types that locates a problem.
type yamlError interface {
	GetMessage() string
	GetToken() *token.Token
}

// syntaxError records a parser error. goccy's Error() prints the source
// around the problem, which takes time on a long line; only the message
// and the position are used.
func (d *decoder) syntaxError(err error) {
	e := &Error{File: d.file, Line: 1, Col: 1}
	var ye yamlError
	if !errors.As(err, &ye) {
		e.Msg = err.Error()
		d.errs = append(d.errs, e)
		return
	}
	e.Msg = "yaml: " + ye.GetMessage()
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		e.Line, e.Col = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
	}
	d.errs = append(d.errs, e)
}

// LoadGlobal returns the file's taskmaster section, even when other parts
// of it have errors: `taskmaster state` must find the rundir. It fails
// only when the section itself cannot be known (a syntax error, or an
// error in the taskmaster section).
func LoadGlobal(path string) (*Global, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	d, err := newDecoder(path)
	if err != nil {
		return nil, err
	}
	cfg := d.decodeFile(data)
	var blocking Errors
	for _, e := range d.errs {
		if e.Path == "" || e.Path == "taskmaster" || strings.HasPrefix(e.Path, "taskmaster.") {
			blocking = append(blocking, e)
		}
	}
	if cfg == nil || len(blocking) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	return &cfg.Global, nil
}

// ControlGlobal returns the taskmaster section as well as it can be read,
// for `taskmaster ctl`, which needs only the socket: a config broken
// while the master runs must not lock ctl out (issue 10, point 15). The
// Global is never nil: what cannot be read keeps its default, derived
// from the file's folder. After a syntax error, the part of the file
// before the error's line is read, since the taskmaster section usually
// comes first. err, when not nil, is every problem of the file, for ctl
// to show if the socket it found does not answer.
func ControlGlobal(path string) (*Global, error) {
	d, err := newDecoder(path)
	if err != nil {
		return nil, err
	}
	g := defaultGlobal(d.dir, d.env.Home)
	data, err := readFile(path)
	if err != nil {
		return &g, err
	}
	cfg := d.decodeFile(data)
	if cfg == nil && len(d.errs) > 0 && d.errs[0].Line > 1 {
		prefix, _ := newDecoder(path)
		cfg = prefix.decodeFile(linesBefore(data, d.errs[0].Line))
	}
	if cfg != nil {
		g = cfg.Global
	}
	if len(d.errs) > 0 {
		d.errs.sort()
		return &g, d.errs
	}
	return &g, nil
}

// newDecoder makes the decoder of the file at path for this process, as
// Load sees it.
func newDecoder(path string) (*decoder, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	home, _ := os.UserHomeDir()
	return &decoder{file: path, dir: dir, env: Env{Euid: os.Geteuid(), Home: home}.withDefaults()}, nil
}

// linesBefore returns the lines of data before line (1-based).
func linesBefore(data []byte, line int) []byte {
	end := 0
	for n := 1; n < line; n++ {
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			return data
		}
		end += i + 1
	}
	return data[:end]
}
