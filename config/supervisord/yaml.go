package supervisord

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/taskmaster/taskmaster/config"
)

// WriteYAML writes cfg as a taskmaster config: the `taskmaster:` keys that
// were set, then every program in start order, each headed by a comment
// naming its supervisor section and the warnings about it. Keys whose value
// is taskmaster's default are left out. The output is deterministic: the
// same Config always gives the same bytes.
func WriteYAML(w io.Writer, cfg *Config) error {
	yw := &yamlWriter{}
	yw.line(0, "# taskmaster config converted from %s by `taskmaster import`.", printable(cfg.Source))
	yw.line(0, "# Check it with `taskmaster check -c FILE` before you run it.")
	yw.global(cfg.Global)
	if len(cfg.Programs) == 0 {
		yw.line(0, "programs: {}")
	} else {
		yw.line(0, "programs:")
	}
	commented := map[string]bool{}
	for _, p := range cfg.Programs {
		if err := yw.program(p, cfg.Warnings, !commented[p.Section]); err != nil {
			return err
		}
		commented[p.Section] = true
	}
	_, err := io.WriteString(w, yw.b.String())
	return err
}

type yamlWriter struct {
	b strings.Builder
}

func (yw *yamlWriter) line(indent int, format string, args ...any) {
	yw.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&yw.b, format, args...)
	yw.b.WriteByte('\n')
}

func (yw *yamlWriter) kv(indent int, key, value string) {
	yw.line(indent, "%s: %s", key, value)
}

func (yw *yamlWriter) global(g Global) {
	if g == (Global{}) {
		return
	}
	yw.line(0, "taskmaster:")
	if g.LogFile != "" {
		yw.kv(1, "logfile", scalar(g.LogFile))
	}
	if g.XMLRPC != "" {
		yw.kv(1, "xmlrpc", scalar(g.XMLRPC))
	}
	if g.Inet != nil {
		yw.line(1, "inet:")
		yw.kv(2, "listen", scalar(g.Inet.Listen))
		if g.Inet.Username != "" {
			yw.kv(2, "username", scalar(g.Inet.Username))
			yw.kv(2, "password", scalar(g.Inet.Password))
		}
	}
}

func (yw *yamlWriter) program(p *Program, warnings []Warning, notes bool) error {
	yw.line(1, "# %s", printable(fmt.Sprintf("[%s] %s:%d", p.Section, p.File, p.Line)))
	if notes {
		for _, w := range warnings {
			if w.Section == p.Section {
				yw.line(1, "# %s", w.String())
			}
		}
	}
	yw.line(1, "%s:", scalar(p.Name))
	cmd, err := commandLine(p.Argv)
	if err != nil {
		return fmt.Errorf("program %s: %w", p.Name, err)
	}
	yw.kv(2, "cmd", scalar(cmd))
	yw.supervision(p)
	yw.output(p)
	if len(p.Env) > 0 {
		yw.line(2, "env:")
		for _, e := range p.Env {
			yw.kv(3, scalar(e.Name), scalar(e.Value))
		}
	}
	if p.User != "" {
		yw.kv(2, "user", scalar(p.User))
	}
	return nil
}

func (yw *yamlWriter) supervision(p *Program) {
	if p.NumProcs > 1 {
		yw.kv(2, "numprocs", strconv.Itoa(p.NumProcs))
	}
	if p.Umask >= 0 {
		yw.kv(2, "umask", fmt.Sprintf(`"%03o"`, p.Umask))
	}
	if p.Dir != "" {
		yw.kv(2, "workingdir", scalar(p.Dir))
	}
	if !p.AutoStart {
		yw.kv(2, "autostart", "false")
	}
	if p.AutoRestart != "unexpected" {
		yw.kv(2, "autorestart", p.AutoRestart)
	}
	if !slices.Equal(p.ExitCodes, []int{0}) {
		codes := make([]string, len(p.ExitCodes))
		for i, c := range p.ExitCodes {
			codes[i] = strconv.Itoa(c)
		}
		yw.kv(2, "exitcodes", "["+strings.Join(codes, ", ")+"]")
	}
	ints := []struct {
		key      string
		val, def int
	}{
		{"startretries", p.StartRetries, defaultStartRetries},
		{"starttime", p.StartSecs, defaultStartSecs},
	}
	for _, x := range ints {
		if x.val != x.def {
			yw.kv(2, x.key, strconv.Itoa(x.val))
		}
	}
	if p.StopSignal != "TERM" {
		yw.kv(2, "stopsignal", p.StopSignal)
	}
	if p.StopWaitSecs != defaultStopWaitSecs {
		yw.kv(2, "stoptime", strconv.Itoa(p.StopWaitSecs))
	}
}

func (yw *yamlWriter) output(p *Program) {
	streams := []struct {
		name, path string
		max        int64
		backups    int
	}{
		{"stdout", p.Stdout, p.StdoutMaxBytes, p.StdoutBackups},
		{"stderr", p.Stderr, p.StderrMaxBytes, p.StderrBackups},
	}
	for _, s := range streams {
		if s.path == "" {
			continue
		}
		yw.kv(2, s.name, scalar(s.path))
		if s.name == "stderr" && s.path == p.Stdout {
			continue // one file: the stdout_ rotation applies
		}
		if s.max != defaultMaxBytes {
			yw.kv(2, s.name+"_maxbytes", size(s.max))
		}
		if s.backups != defaultBackups {
			yw.kv(2, s.name+"_backups", strconv.Itoa(min(s.backups, 1000)))
		}
	}
}

// size writes a byte count with the largest unit that divides it.
func size(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return fmt.Sprintf("%d%s", n/u.mult, u.suffix)
		}
	}
	return strconv.FormatInt(n, 10)
}

// plainSafe is text YAML reads back as the same string when written bare.
var plainSafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_/.][A-Za-z0-9_./@+,=-]*$`) })

// yamlWords are plain scalars YAML 1.1 or 1.2 would read as something
// other than a string.
var yamlWords = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?i:y|n|yes|no|true|false|on|off|null|~|\.inf|\.nan|[-+]?\.inf)$`)
})

// scalar writes s so that YAML reads it back exactly: bare when that is
// safe, double-quoted (with escapes) otherwise.
func scalar(s string) string {
	if plainSafe().MatchString(s) && !yamlWords().MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

// argSafe is a word taskmaster's command splitter reads as itself.
var argSafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`) })

// commandLine writes argv so that taskmaster's SplitCommand gives it back,
// quoting words with single quotes where needed.
func commandLine(argv []string) (string, error) {
	words := make([]string, len(argv))
	for i, a := range argv {
		if argSafe().MatchString(a) {
			words[i] = a
		} else {
			words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	cmd := strings.Join(words, " ")
	back, err := config.SplitCommand(cmd)
	if err != nil || !slices.Equal(back, argv) {
		return "", fmt.Errorf("command %q cannot be written for taskmaster's splitter", argv)
	}
	return cmd, nil
}
