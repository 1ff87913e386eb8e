package supervisord

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/taskmaster/taskmaster/config"
)

// The value types of supervisor/datatypes.py. Each accepts exactly what
// supervisord accepts, so a config supervisord refuses is refused here too.

// pyInt is Python's int(s) for base 10 (or 8): surrounding whitespace, a
// sign, and single underscores between digits are allowed.
func pyInt(s string, base int) (int64, error) {
	t := strings.TrimFunc(s, isPySpace)
	sign := ""
	if t != "" && (t[0] == '+' || t[0] == '-') {
		sign, t = t[:1], t[1:]
	}
	if base == 8 && len(t) > 2 && (t[:2] == "0o" || t[:2] == "0O") {
		t = strings.TrimPrefix(t[2:], "_")
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, fmt.Errorf("%w: invalid literal for int() with base %d: %q", ErrBadValue, base, s)
	}
	n, err := strconv.ParseInt(sign+strings.ReplaceAll(t, "_", ""), base, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: invalid literal for int() with base %d: %q", ErrBadValue, base, s)
	}
	return n, nil
}

func integer(s string) (int, error) {
	n, err := pyInt(s, 10)
	if err != nil {
		return 0, err
	}
	if n != int64(int32(n)) {
		return 0, fmt.Errorf("%w: %q is out of range", ErrBadValue, s)
	}
	return int(n), nil
}

func boolean(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%w: not a valid boolean value: %q", ErrBadValue, s)
}

// autoRestart maps supervisor's autorestart to taskmaster's words.
func autoRestart(s string) (string, error) {
	switch v := strings.ToLower(s); {
	case v == "unexpected":
		return "unexpected", nil
	default:
		b, err := boolean(v)
		if err != nil {
			return "", fmt.Errorf("%w: invalid 'autorestart' value %q", ErrBadValue, s)
		}
		if b {
			return "always", nil
		}
		return "never", nil
	}
}

// byteSize is supervisor's byte_size: KB, MB, GB (any case) are powers of
// 1024; no other suffix.
func byteSize(s string) (int64, error) {
	v := strings.ToLower(s)
	mult := int64(1)
	for i, suffix := range []string{"kb", "mb", "gb"} {
		if strings.HasSuffix(v, suffix) {
			v, mult = strings.TrimSuffix(v, suffix), 1<<(10*(i+1))
			break
		}
	}
	n, err := pyInt(v, 10)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%w: not a byte size: %q", ErrBadValue, s)
	}
	return n * mult, nil
}

func octal(s string) (int, error) {
	n, err := pyInt(s, 8)
	if err != nil || n < 0 || n > 0o777 {
		return 0, fmt.Errorf("%w: %q can not be converted to an umask", ErrBadValue, s)
	}
	return int(n), nil
}

// exitCodes is list_of_exitcodes: comma-separated integers 0 to 255.
func exitCodes(s string) ([]int, error) {
	if s == "" {
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := integer(f)
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("%w: not a valid list of exit codes: %q", ErrBadValue, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// signalAliases are names Python's signal module knows and taskmaster's
// table does not.
var signalAliases = map[string]string{"IOT": "ABRT", "POLL": "IO", "CLD": "CHLD"}

// stopSignal is signal_number, answered as the name taskmaster writes.
func stopSignal(s string) (string, error) {
	if _, err := pyInt(s, 10); err == nil {
		n, _ := integer(s)
		if name := config.SignalName(syscall.Signal(n)); name != "" {
			return name, nil
		}
		return "", fmt.Errorf("%w: value %q is not a signal number taskmaster knows", ErrBadValue, s)
	}
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimFunc(s, isPySpace)), "SIG")
	if a, ok := signalAliases[name]; ok {
		name = a
	}
	if _, err := config.ParseSignal(name); err != nil {
		return "", fmt.Errorf("%w: value %q is not a valid signal name", ErrBadValue, s)
	}
	return name, nil
}

// logKind is what logfile_name makes of a *_logfile value.
type logKind int

const (
	logPath logKind = iota
	logNone
	logAuto
	logSyslog
	logConsole // /dev/stdout and the like: supervisord's own output
)

// consolePath matches the paths that name supervisord's own standard
// output or error, common in containers.
var consolePath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^/(dev/(stdout|stderr|fd/[0-9]+)|proc/self/fd/[0-9]+)$`)
})

func logfileKind(s string) logKind {
	switch strings.ToLower(s) {
	case "none", "off":
		return logNone
	case "auto":
		return logAuto
	case "syslog":
		return logSyslog
	}
	if s == "/dev/null" {
		return logNone
	}
	if consolePath().MatchString(s) {
		return logConsole
	}
	return logPath
}

// validName is process_or_group_name: no space, ':' or '/'.
func validName(s string) (string, error) {
	t := strings.TrimFunc(s, isPySpace)
	if strings.ContainsAny(t, " :/") {
		return "", fmt.Errorf("%w: invalid name %q because of character %q", ErrBadValue, s, t[strings.IndexAny(t, " :/")])
	}
	return t, nil
}
