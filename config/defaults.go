package config

import "strings"

// decodeDefaults reads the `defaults:` section: any program key, applied
// to every program that does not set it. The section is validated once,
// as a program of its own (problems are reported at defaults.KEY), and
// only its valid entries are kept for the programs, so a bad value is
// reported once rather than once per program. Null means no defaults.
func (d *decoder) decodeDefaults(v value) {
	entries, ok := d.mapping(v, true)
	if !ok {
		return
	}
	p := defaultProgram("defaults")
	var known []entry
	bad := map[string]bool{}
	for _, e := range entries {
		f := lookupField(programFields, e.key)
		if f == nil {
			d.unknownKey(e, keysOf(programFields))
			continue
		}
		n := len(d.errs)
		f.set(d, p, e.val)
		known, bad[e.key] = append(known, e), len(d.errs) > n
	}
	byKey := make(map[string]entry, len(known))
	for _, e := range known {
		byKey[e.key] = e
	}
	n := len(d.errs)
	d.checkTTY(p, byKey)
	d.resolveIDs(p, byKey)
	for _, e := range d.errs[n:] { // the checks of combinations name their key
		key, _, _ := strings.Cut(strings.TrimPrefix(e.Path, "defaults."), ".")
		bad[key] = true
	}
	for _, e := range known {
		if !bad[e.key] {
			d.defaults = append(d.defaults, e)
		}
	}
}

// withDefaults returns a program's entries followed by the defaults it
// does not set itself, renamed into the program (programs.NAME.KEY) and
// still located where `defaults:` wrote them.
func (d *decoder) withDefaults(own []entry, path string) []entry {
	if len(d.defaults) == 0 {
		return own
	}
	set := make(map[string]bool, len(own))
	for _, e := range own {
		set[e.key] = true
	}
	out := own[:len(own):len(own)]
	for _, e := range d.defaults {
		if !set[e.key] {
			out = append(out, entry{key: e.key, keyNode: e.keyNode, val: value{node: e.val.node, path: joinPath(path, e.key)}})
		}
	}
	return out
}
