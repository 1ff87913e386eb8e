package config

import (
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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
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

// decodeFile parses the YAML and decodes its one document.
func (d *decoder) decodeFile(data []byte) *Config {
	file, err := parseYAML(data)
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
	if body != nil {
		d.collectAnchors(body)
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
func parseYAML(data []byte) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("yaml parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

// yamlError is the part of goccy's error types that locates a problem.
type yamlError interface {
	GetMessage() string
	GetToken() *token.Token
}

func (d *decoder) syntaxError(err error) {
	e := &Error{File: d.file, Line: 1, Col: 1, Msg: err.Error()}
	var ye yamlError
	if errors.As(err, &ye) {
		e.Msg = "yaml: " + ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Col = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
		}
	}
	d.errs = append(d.errs, e)
}

// LoadGlobal returns the file's taskmaster section, even when other parts
// of it have errors: `taskmaster ctl reload` must reach the master to
// report exactly those errors, and `taskmaster state` must find the rundir.
// It fails only when the section itself cannot be known (a syntax error,
// or an error in the taskmaster section).
func LoadGlobal(path string) (*Global, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	home, _ := os.UserHomeDir()
	d := &decoder{file: path, dir: dir, env: Env{Euid: os.Geteuid(), Home: home}.withDefaults()}
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
