package config

import (
	"path/filepath"
	"strings"
)

// rootFields are the top-level keys. programs is handled here too so that
// its absence can be reported.
var rootFields = []field[*Config]{
	{"taskmaster", func(d *decoder, c *Config, v value) { d.decodeGlobal(c, v) }},
	{"programs", func(d *decoder, c *Config, v value) { d.decodePrograms(c, v) }},
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
	if _, ok := byKey["programs"]; !ok {
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
	g.History = filepath.Join(g.RunDir, "history")
	if home != "" {
		g.History = filepath.Join(home, ".taskmaster_history")
	}
	return g
}

var globalFields = []field[*Global]{
	{"logfile", func(d *decoder, g *Global, v value) { setPath(d, &g.LogFile, v) }},
	{"rundir", func(d *decoder, g *Global, v value) { setPath(d, &g.RunDir, v) }},
	{"socket", func(d *decoder, g *Global, v value) { setPath(d, &g.Socket, v) }},
	{"history", func(d *decoder, g *Global, v value) { d.history(g, v) }},
	{"detachkey", func(d *decoder, g *Global, v value) { d.detachKey(g, v) }},
	{"notify", func(d *decoder, g *Global, v value) { set(d.boolean(v))(&g.Notify) }},
}

// decodeGlobal decodes `taskmaster:`; null means all defaults. The socket
// default follows rundir, so it is derived after the other keys.
func (d *decoder) decodeGlobal(c *Config, v value) {
	entries, ok := d.mapping(v, true)
	if !ok {
		return
	}
	byKey := decodeFields(d, &c.Global, entries, globalFields)
	if _, ok := byKey["socket"]; !ok {
		c.Global.Socket = filepath.Join(c.Global.RunDir, "taskmaster.sock")
	}
	if _, ok := byKey["history"]; !ok && d.env.Home == "" {
		c.Global.History = filepath.Join(c.Global.RunDir, "history")
	}
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
