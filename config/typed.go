package config

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The typed readers below each take a value, record a problem naming the
// expected type when it does not fit, and return ok=false in that case.

// str reads any non-null scalar as text: `user: 1000` or `ANSWER: 42` mean
// the text the user wrote.
func (d *decoder) str(v value) (string, bool) {
	s, ok := d.scalarOf(v)
	if !ok || s.kind == kindNull {
		d.errorf(v.node, v.path, "expected a string, got %s", d.describe(v))
		return "", false
	}
	return s.text, true
}

// decimal is the integer syntax accepted everywhere but umask. Leading
// zeros are allowed and mean nothing: numbers are decimal.
// Compiled on first use: the worker runs this binary too and never parses
// a config, so package init must stay cheap.
var decimal = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[+-]?[0-9]+$`) })

// integer reads a whole number in [lo, hi]; a number written in quotes is
// accepted, since nothing else could be meant.
func (d *decoder) integer(v value, lo, hi int) (int, bool) {
	s, ok := d.scalarOf(v)
	if !ok || (s.kind != kindInt && s.kind != kindString) || !decimal().MatchString(strings.TrimSpace(s.text)) {
		d.errorf(v.node, v.path, "expected an integer, got %s", d.describe(v))
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s.text), 10, 64)
	return d.inRange(v, n, err, lo, hi)
}

func (d *decoder) inRange(v value, n int64, err error, lo, hi int) (int, bool) {
	switch {
	case n < 0 && lo >= 0:
		d.errorf(v.node, v.path, "must not be negative, got %d", n)
	case err != nil:
		d.errorf(v.node, v.path, "must be at most %d", hi)
	case n > int64(hi):
		d.errorf(v.node, v.path, "must be at most %d, got %d", hi, n)
	case n < int64(lo):
		d.errorf(v.node, v.path, "must be at least %d, got %d", lo, n)
	default:
		return int(n), true
	}
	return 0, false
}

// boolean reads true/false; yes/no and on/off are accepted too, in any
// case, because supervisor's users write them.
func (d *decoder) boolean(v value) (bool, bool) {
	s, ok := d.scalarOf(v)
	if ok && (s.kind == kindBool || s.kind == kindString) {
		switch strings.ToLower(s.text) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	d.errorf(v.node, v.path, "expected true or false, got %s", d.describe(v))
	return false, false
}

// Compiled on first use: the worker runs this binary too and never parses
// a config, so package init must stay cheap.
var seconds = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
})

// maxSeconds keeps a duration inside time.Duration (about 292 years).
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// duration reads a non-negative number of seconds, whole or fractional.
func (d *decoder) duration(v value) (time.Duration, bool) {
	s, ok := d.scalarOf(v)
	text := strings.TrimSpace(s.text)
	if !ok || (s.kind != kindInt && s.kind != kindFloat && s.kind != kindString) || !seconds().MatchString(text) {
		d.errorf(v.node, v.path, "expected a number of seconds, got %s", d.describe(v))
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case f < 0:
		d.errorf(v.node, v.path, "must not be negative, got %s", text)
	case err != nil || f > maxSeconds:
		d.errorf(v.node, v.path, "must be at most %.0f seconds", maxSeconds)
	default:
		return time.Duration(f * float64(time.Second)), true
	}
	return 0, false
}

// size reads a byte count with ParseSize, from a number or a string.
func (d *decoder) size(v value) (int64, bool) {
	s, ok := d.scalarOf(v)
	if !ok || (s.kind != kindInt && s.kind != kindString) {
		d.errorf(v.node, v.path, "expected a size like 50MB, got %s", d.describe(v))
		return 0, false
	}
	n, err := ParseSize(s.text)
	if err != nil {
		d.errorf(v.node, v.path, "%v", err)
		return 0, false
	}
	return n, true
}

// path reads a non-empty path and makes it absolute against the config's
// folder.
func (d *decoder) path(v value) (string, bool) {
	s, ok := d.str(v)
	if !ok {
		return "", false
	}
	return d.checkPath(v, s)
}

// checkPath makes s, read from v, absolute; a path must be non-empty and
// free of NUL bytes, which no system call accepts.
func (d *decoder) checkPath(v value, s string) (string, bool) {
	if s == "" || strings.ContainsRune(s, 0) {
		d.errorf(v.node, v.path, "expected a path, got %q", s)
		return "", false
	}
	return d.absPath(s), true
}

// umask reads an octal file mode creation mask. YAML would read `022` as
// octal 18 (YAML 1.1) or decimal 22 (1.2) depending on the library, so the
// token text is read instead, and always as octal: 022, "022", 0o22, 22.
func (d *decoder) umask(v value) (int, bool) {
	s, ok := d.scalarOf(v)
	if !ok || (s.kind != kindInt && s.kind != kindString) {
		d.errorf(v.node, v.path, "expected an octal umask like 022, got %s", d.describe(v))
		return 0, false
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(s.text, "0o"), "0O")
	n, err := strconv.ParseUint(digits, 8, 32)
	if err != nil {
		d.errorf(v.node, v.path, "expected an octal umask like 022, got %q", s.text)
		return 0, false
	}
	if n > 0o777 {
		d.errorf(v.node, v.path, "umask must be at most 0777, got %s", s.text)
		return 0, false
	}
	return int(n), true
}
