package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// rootFields are the top-level keys. programs is handled here too so that
// its absence can be reported; it is decoded last, once defaults are
// known, wherever it stands in the file.
var rootFields = []field[*Config]{
	{"taskmaster", func(d *decoder, c *Config, v value) { d.decodeGlobal(c, v) }},
	{"defaults", func(d *decoder, c *Config, v value) { d.decodeDefaults(v) }},
	{"programs", func(d *decoder, c *Config, v value) {}},
}

// decodeRoot decodes the document's top mapping into a Config with every
// default in place.
func (d *decoder) decodeRoot(v value) *Config {
	c := &Config{Dir: d.dir, Path: d.file, Programs: map[string]*Program{}, Order: []string{}}
	c.Global = defaultGlobal(d.dir, d.env.Home)
	entries, ok := d.mapping(v, true)
	if !ok {
		return nil
	}
	byKey := decodeFields(d, c, entries, rootFields)
	if e, ok := byKey["programs"]; ok {
		d.decodePrograms(c, e.val)
	} else {
		d.errorAt(1, 1, "programs", "missing key")
	}
	return c
}

// defaultGlobal is the `taskmaster:` section when it is absent or empty.
func defaultGlobal(dir, home string) Global {
	g := Global{
		LogFile:   filepath.Join(dir, "taskmaster.log"),
		RunDir:    filepath.Join(dir, "run"),
		DetachKey: []byte{0x1d}, // ^]: telnet's escape, rarely typed by accident
		Notify:    true,
	}
	g.Socket = filepath.Join(g.RunDir, "taskmaster.sock")
	g.XMLRPC = filepath.Join(g.RunDir, "supervisor.sock")
	g.History = filepath.Join(g.RunDir, "history")
	if home != "" {
		g.History = filepath.Join(home, ".taskmaster_history")
	}
	return g
}

var globalFields = []field[*Global]{
	{"logfile", func(d *decoder, g *Global, v value) { set(d.filePath(v))(&g.LogFile) }},
	{"rundir", func(d *decoder, g *Global, v value) { set(d.runDir(v))(&g.RunDir) }},
	{"statedir", func(d *decoder, g *Global, v value) { set(d.runDir(v))(&g.StateDir) }},
	{"socket", func(d *decoder, g *Global, v value) { setPath(d, &g.Socket, v) }},
	{"history", func(d *decoder, g *Global, v value) { d.history(g, v) }},
	{"detachkey", func(d *decoder, g *Global, v value) { d.detachKey(g, v) }},
	{"notify", func(d *decoder, g *Global, v value) { set(d.boolean(v))(&g.Notify) }},
	{"xmlrpc", func(d *decoder, g *Global, v value) { d.xmlrpcSocket(g, v) }},
	{"inet", func(d *decoder, g *Global, v value) { d.inet(g, v) }},
}

// decodeGlobal decodes `taskmaster:`; null means all defaults. The socket
// defaults follow rundir, so they are derived after the other keys.
func (d *decoder) decodeGlobal(c *Config, v value) {
	entries, ok := d.mapping(v, true)
	if !ok {
		return
	}
	byKey := decodeFields(d, &c.Global, entries, globalFields)
	if e, ok := byKey["socket"]; !ok {
		c.Global.Socket = filepath.Join(c.Global.RunDir, "taskmaster.sock")
	} else if dir := filepath.Dir(c.Global.Socket); dir != c.Global.RunDir {
		d.checkDir(e.val, dir) // the rundir is created at start; another folder must exist
	}
	if e, ok := byKey["xmlrpc"]; !ok {
		c.Global.XMLRPC = filepath.Join(c.Global.RunDir, "supervisor.sock")
	} else if dir := filepath.Dir(c.Global.XMLRPC); c.Global.XMLRPC != "" && dir != c.Global.RunDir {
		d.checkDir(e.val, dir)
	}
	if _, ok := byKey["history"]; !ok && d.env.Home == "" {
		c.Global.History = filepath.Join(c.Global.RunDir, "history")
	}
}

// runDir reads the rundir: a folder, or a path whose parent exists so
// the master can create it. Nothing is created here.
func (d *decoder) runDir(v value) (string, bool) {
	p, ok := d.path(v)
	if !ok {
		return "", false
	}
	fi, err := os.Stat(p)
	switch {
	case err == nil && !fi.IsDir():
		d.errorf(v.node, v.path, "%s is not a directory", p)
	case err == nil:
		return p, true
	case !errors.Is(err, fs.ErrNotExist):
		d.errorf(v.node, v.path, "%v", err)
	default:
		parent := filepath.Dir(p)
		if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
			d.errorf(v.node, v.path, "cannot create %s: %s is not an existing directory", p, parent)
			return "", false
		}
		return p, true
	}
	return "", false
}

// history reads the shell history file; a leading "~/" means Env.Home.
func (d *decoder) history(g *Global, v value) {
	s, ok := d.str(v)
	if !ok {
		return
	}
	if rest, tilde := strings.CutPrefix(s, "~/"); tilde {
		if d.env.Home == "" {
			d.errorf(v.node, v.path, "cannot expand ~: home directory unknown")
			return
		}
		s = filepath.Join(d.env.Home, rest)
	}
	if p, ok := d.checkPath(v, s); ok {
		g.History = p
	}
}

func (d *decoder) detachKey(g *Global, v value) {
	s, ok := d.str(v)
	if !ok {
		return
	}
	keys, err := parseDetachKey(s)
	if err != nil {
		d.errorf(v.node, v.path, "%v", err)
		return
	}
	g.DetachKey = keys
}

// setPath stores an absolute path into dst when v holds one.
func setPath(d *decoder, dst *string, v value) {
	if p, ok := d.path(v); ok {
		*dst = p
	}
}

// set returns a function storing x into dst when ok, so a table entry can
// read a value and assign it on one line without clobbering the default on
// error.
func set[T any](x T, ok bool) func(dst *T) {
	return func(dst *T) {
		if ok {
			*dst = x
		}
	}
}
