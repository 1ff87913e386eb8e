package xmlrpc

import "strconv"

// fits reports whether params have the types of the signature, as the
// readers below take them: call checks it first, so methods read their
// parameters without checking them again.
func fits(types []string, params []any) bool {
	for i := range params {
		a := &args{p: params}
		switch types[i] {
		case "string":
			a.str(i)
		case "int":
			a.int(i)
		case "boolean":
			a.flag(i, false)
		case "array":
			a.list(i)
		}
		if a.err != nil {
			return false
		}
	}
	return true
}

// args reads a call's parameters, whose types fits checked; a mismatch
// (a bug) is kept as an INCORRECT_PARAMETERS fault and reads zero values.
type args struct {
	p   []any
	err *Fault
}

func (a *args) bad() { a.err = fault(IncorrectParameters) }

// str reads a string; an int is accepted too (a signal given as 1).
func (a *args) str(i int) string {
	switch v := a.get(i).(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	a.bad()
	return ""
}

// int reads an int; a string of digits is accepted too, as supervisor
// calls int() on offsets.
func (a *args) int(i int) int64 {
	switch v := a.get(i).(type) {
	case int64:
		return v
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	a.bad()
	return 0
}

// flag reads a boolean, def when absent. Clients send 0/1 as ints too
// (supervisord-monitor sends <int>1</int> for wait).
func (a *args) flag(i int, def bool) bool {
	if i >= len(a.p) {
		return def
	}
	switch v := a.p[i].(type) {
	case bool:
		return v
	case int64:
		return v != 0
	}
	a.bad()
	return def
}

func (a *args) list(i int) []any {
	if v, ok := a.get(i).([]any); ok {
		return v
	}
	a.bad()
	return nil
}

func (a *args) get(i int) any {
	if a.err != nil || i >= len(a.p) {
		if a.err == nil {
			a.bad()
		}
		return nil
	}
	return a.p[i]
}
