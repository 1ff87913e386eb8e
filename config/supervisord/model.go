package supervisord

import (
	"fmt"
	"strings"
)

// Config is a supervisor config in taskmaster's terms: what the YAML
// writer emits. Zero values mean taskmaster's default (the key is left
// out), except where a field says otherwise.
type Config struct {
	Source   string // the main supervisor file, as named by the caller
	Global   Global
	Programs []*Program // in supervisord's start order: priority, then name
	Warnings []Warning  // in file and line order
}

// Global is the `taskmaster:` section.
type Global struct {
	LogFile string // [supervisord] logfile
	XMLRPC  string // [unix_http_server] file
	Inet    *Inet  // [inet_http_server]; nil when absent
}

// Inet is `taskmaster.inet`.
type Inet struct {
	Listen   string // host:port
	Username string
	Password string // as written, {SHA}hexdigest included
}

// Program is one `programs.NAME` entry.
type Program struct {
	Name     string
	Section  string // "program:x", where it comes from
	File     string
	Line     int
	Priority int // supervisor's; only orders the output
	// Group and Processes are supervisord's names for what this program
	// runs: its group (the program's own, or a [group:x]'s) and the
	// expanded process_name of each process.
	Group     string
	Processes []string
	Argv      []string
	NumProcs  int // >= 1
	Umask     int // -1: not set
	Dir       string
	// AutoStart and the other supervision keys hold supervisor's value,
	// whose defaults are taskmaster's; the writer leaves defaults out.
	AutoStart      bool
	AutoRestart    string // always | never | unexpected
	ExitCodes      []int
	StartRetries   int
	StartSecs      int
	StopSignal     string // a name without SIG, or a number
	StopWaitSecs   int
	Stdout, Stderr string // "": discarded
	StdoutMaxBytes int64
	StdoutBackups  int
	StderrMaxBytes int64
	StderrBackups  int
	Env            []EnvVar
	User           string
	Notes          []Warning // this program's warnings, also written as comments
}

// Warning is a supervisor setting taskmaster does not honour, or honours
// differently. Key is "" for a whole section.
type Warning struct {
	File    string
	Line    int
	Section string
	Key     string
	Msg     string // "not supported (what happens instead)", ...
}

// String is FILE:LINE: [section] key: msg, on one line: control
// characters (a newline in a value) are escaped, so the text is safe on a
// terminal and as a YAML comment.
func (w Warning) String() string {
	if w.Key == "" {
		return printable(fmt.Sprintf("%s:%d: [%s]: %s", w.File, w.Line, w.Section, w.Msg))
	}
	return printable(fmt.Sprintf("%s:%d: [%s] %s: %s", w.File, w.Line, w.Section, w.Key, w.Msg))
}

// printable escapes control characters and Unicode line separators.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return '?'
		}
		return r
	}, s)
}

// Defaults of supervisor's program keys, which are taskmaster's as well.
const (
	defaultStartRetries = 3
	defaultStartSecs    = 1
	defaultStopWaitSecs = 10
	defaultMaxBytes     = 50 << 20
	defaultBackups      = 10
)
