package supervisord

import (
	"errors"
	"fmt"
)

// Error is a problem that makes supervisord itself refuse the config (a
// syntax error, a bad value, an unknown expansion name), located by file
// and line.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error formats the problem as FILE:LINE: MSG.
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Sentinel causes, wrapped by the value parsers; callers test them with
// errors.Is.
var (
	ErrFormat   = errors.New("badly formatted")
	ErrNoName   = errors.New("name cannot be expanded")
	ErrUnclosed = errors.New("no closing quotation")
	ErrEscape   = errors.New("no escaped character")
	ErrPairs    = errors.New("unexpected end of key/value pairs")
	ErrBadValue = errors.New("bad value")
)
