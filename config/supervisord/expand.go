package supervisord

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Vars are the names a value may expand, as supervisor's `expansions`
// dict: strings (here, program_name, group_name, host_node_name, ENV_X)
// and integers (process_num, numprocs).
type Vars map[string]any

// clone returns a copy, so a caller may add names without changing v.
func (v Vars) clone() Vars {
	c := make(Vars, len(v))
	for k, x := range v {
		c[k] = x
	}
	return c
}

// Expand applies Python's `s % vars`, which is how supervisor expands
// every value: `%(name)s` and the other printf forms (`%(process_num)02d`,
// `%(name)-10s`, `%(process_num)x`, ...), `%%` for a percent sign. A name
// that vars lacks wraps ErrNoName; a malformed or unsupported form, or a
// string given to a number form, wraps ErrFormat.
func Expand(s string, vars Vars) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '%')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		n, err := expandOne(&b, s, i+j, vars)
		if err != nil {
			return "", err
		}
		i = n
	}
	return b.String(), nil
}

// spec is one parsed conversion: %(name)FLAGS WIDTH .PREC TYPE.
type spec struct {
	name, flags, width, prec string
	verb                     byte
}

// expandOne formats the conversion starting at s[at] (a '%') into b and
// returns the index after it.
func expandOne(b *strings.Builder, s string, at int, vars Vars) (int, error) {
	sp, end, err := parseSpec(s, at)
	if err != nil {
		return 0, err
	}
	if sp.verb == '%' {
		b.WriteByte('%')
		return end, nil
	}
	if sp.name == "" {
		return 0, fmt.Errorf("%w: %q: %%%c needs a name, as in %%(program_name)%c", ErrFormat, s, sp.verb, sp.verb)
	}
	v, ok := vars[sp.name]
	if !ok {
		return 0, fmt.Errorf("%w: %q contains %q; available names: %s", ErrNoName, s, sp.name, strings.Join(names(vars), ", "))
	}
	out, err := sp.format(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrFormat, s, err)
	}
	b.WriteString(out)
	return end, nil
}

func names(vars Vars) []string {
	out := make([]string, 0, len(vars))
	for k := range vars {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// parseSpec reads a conversion as Python's PyUnicode_Format does: a name in
// balanced parentheses, flags "-+ #0", a width, a precision, the ignored
// length modifiers "hlL", then the type.
func parseSpec(s string, at int) (spec, int, error) {
	var sp spec
	i := at + 1
	if i < len(s) && s[i] == '(' {
		depth, start := 1, i+1
		for i++; i < len(s) && depth > 0; i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
			}
		}
		if depth > 0 {
			return sp, 0, fmt.Errorf("%w: %q: incomplete format key", ErrFormat, s)
		}
		sp.name = s[start : i-1]
	}
	sp.flags, i = span(s, i, "-+ #0")
	sp.width, i = span(s, i, "0123456789")
	if i < len(s) && s[i] == '.' {
		sp.prec, i = span(s, i+1, "0123456789")
		sp.prec = "." + sp.prec
	}
	if len(sp.width) > 4 || len(sp.prec) > 5 {
		return sp, 0, fmt.Errorf("%w: %q: width or precision above 9999", ErrFormat, s)
	}
	_, i = span(s, i, "hlL")
	if i >= len(s) {
		return sp, 0, fmt.Errorf("%w: %q: incomplete format", ErrFormat, s)
	}
	if !strings.ContainsRune("%sradiuoxXeEfFgGc", rune(s[i])) {
		return sp, 0, fmt.Errorf("%w: %q: unsupported format character %q at index %d", ErrFormat, s, s[i], i)
	}
	sp.verb = s[i]
	return sp, i + 1, nil
}

func span(s string, i int, set string) (string, int) {
	start := i
	for i < len(s) && strings.IndexByte(set, s[i]) >= 0 {
		i++
	}
	return s[start:i], i
}

// format renders v (a string or an int) the way Python would.
func (sp spec) format(v any) (string, error) {
	switch sp.verb {
	case 's', 'r', 'a':
		text := fmt.Sprint(v)
		if str, ok := v.(string); ok && sp.verb != 's' {
			text = pyRepr(str)
		}
		// Python pads strings with spaces even under the 0 flag.
		return fmt.Sprintf("%"+strings.ReplaceAll(sp.flags, "0", "")+sp.width+sp.prec+"s", text), nil
	case 'c':
		return sp.char(v)
	}
	n, ok := v.(int)
	if !ok {
		return "", fmt.Errorf("%%%c format: a real number is required, not str", sp.verb)
	}
	switch sp.verb {
	case 'd', 'i', 'u':
		return fmt.Sprintf("%"+sp.flags+sp.width+sp.prec+"d", n), nil
	case 'o':
		if strings.Contains(sp.flags, "#") { // Python writes 0o17, Go's %#o 017
			return fmt.Sprintf("%"+strings.ReplaceAll(sp.flags, "#", "")+sp.width+sp.prec+"O", n), nil
		}
		return fmt.Sprintf("%"+sp.flags+sp.width+sp.prec+"o", n), nil
	case 'x', 'X':
		return fmt.Sprintf("%"+sp.flags+sp.width+sp.prec+string(sp.verb), n), nil
	}
	prec := sp.prec
	if prec == "" && sp.verb != 'g' && sp.verb != 'G' {
		prec = ".6"
	}
	return fmt.Sprintf("%"+sp.flags+sp.width+prec+string(sp.verb), float64(n)), nil
}

func (sp spec) char(v any) (string, error) {
	pad := "%" + strings.ReplaceAll(sp.flags, "0", "") + sp.width + "s"
	switch x := v.(type) {
	case int:
		if x < 0 || x > 0x10ffff {
			return "", fmt.Errorf("%%c arg not in range(0x110000)")
		}
		return fmt.Sprintf(pad, string(rune(x))), nil
	case string:
		if len([]rune(x)) != 1 {
			return "", fmt.Errorf("%%c requires an int or a unicode character, not a string of length %d", len([]rune(x)))
		}
		return fmt.Sprintf(pad, x), nil
	}
	return "", fmt.Errorf("%%c requires an int or a unicode character")
}

// pyRepr quotes s as Python's repr does for printable text: single quotes
// unless s holds one and no double quote.
func pyRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case string(r) == q:
			b.WriteString(`\` + q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)|0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}
