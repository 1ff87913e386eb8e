package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors returned (wrapped) by the parsing helpers; callers test
// them with errors.Is.
var (
	ErrUnterminatedQuote = errors.New("unterminated quote")
	ErrTrailingBackslash = errors.New("trailing backslash")
	ErrUnknownSignal     = errors.New("unknown signal")
	ErrBadSize           = errors.New("bad size")
)

// Error is one problem found in a config file, located by line and column
// (1-based) and named by the dotted key path, e.g. "programs.web.stopsignal".
// Path is empty for problems that belong to no key, such as YAML syntax
// errors.
type Error struct {
	File string // the config path as the caller passed it to Parse or Load
	Line int
	Col  int
	Path string
	Msg  string
}

// Error formats the problem as FILE:LINE:COL: PATH: MSG, the form editors
// and compilers use, so terminals and IDEs can jump to it.
func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Path, e.Msg)
}

// Errors is every problem found in one config file, sorted by position.
// Parse returns it (as error) whenever validation fails, so a user sees all
// mistakes at once instead of fixing them one run at a time.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sort orders the problems by line, then column; problems at the same
// position keep the order in which they were found.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
}
