package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// maxNumProcs bounds numprocs: each process costs a worker, and a typo like
// 1000000 should not fork-bomb the machine.
const maxNumProcs = 10000

// maxBackups bounds stdout_backups and stderr_backups: each rotation
// renames every backup, and 2147483647 of them spun a core for 20 s at
// the first one (issue 10, point 9).
const maxBackups = 1000

// programName is what a program may be called: ':' separates a program
// from its process in "web:web_00", and shells and file names (the state
// files) need nothing exotic.
// Compiled on first use: the worker runs this binary too and never parses
// a config, so package init must stay cheap.
var programName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]+$`) })

var programFields = []field[*Program]{
	{"cmd", func(d *decoder, p *Program, v value) { d.command(p, v) }},
	{"numprocs", func(d *decoder, p *Program, v value) { set(d.integer(v, 1, maxNumProcs))(&p.NumProcs) }},
	{"umask", func(d *decoder, p *Program, v value) { set(d.umask(v))(&p.Umask) }},
	{"workingdir", func(d *decoder, p *Program, v value) { d.workingDir(p, v) }},
	{"autostart", func(d *decoder, p *Program, v value) { set(d.boolean(v))(&p.AutoStart) }},
	{"autorestart", func(d *decoder, p *Program, v value) { set(d.autoRestart(v))(&p.AutoRestart) }},
	{"exitcodes", func(d *decoder, p *Program, v value) { set(d.exitCodes(v))(&p.ExitCodes) }},
	{"startretries", func(d *decoder, p *Program, v value) { set(d.integer(v, 0, math.MaxInt32))(&p.StartRetries) }},
	{"starttime", func(d *decoder, p *Program, v value) { set(d.duration(v))(&p.StartTime) }},
	{"stopsignal", func(d *decoder, p *Program, v value) { set(d.signal(v))(&p.StopSignal) }},
	{"stoptime", func(d *decoder, p *Program, v value) { set(d.duration(v))(&p.StopTime) }},
	{"stdout", func(d *decoder, p *Program, v value) { set(d.output(v))(&p.Stdout) }},
	{"stderr", func(d *decoder, p *Program, v value) { set(d.output(v))(&p.Stderr) }},
	{"stdout_maxbytes", func(d *decoder, p *Program, v value) { set(d.size(v))(&p.StdoutMaxBytes) }},
	{"stdout_backups", func(d *decoder, p *Program, v value) { set(d.integer(v, 0, maxBackups))(&p.StdoutBackups) }},
	{"stderr_maxbytes", func(d *decoder, p *Program, v value) { set(d.size(v))(&p.StderrMaxBytes) }},
	{"stderr_backups", func(d *decoder, p *Program, v value) { set(d.integer(v, 0, maxBackups))(&p.StderrBackups) }},
	{"env", func(d *decoder, p *Program, v value) { set(d.environ(v))(&p.Env) }},
	{"clearenv", func(d *decoder, p *Program, v value) { set(d.boolean(v))(&p.ClearEnv) }},
	{"user", func(d *decoder, p *Program, v value) { set(d.nonEmpty(v))(&p.User) }},
	{"group", func(d *decoder, p *Program, v value) { set(d.nonEmpty(v))(&p.Group) }},
	{"tty", func(d *decoder, p *Program, v value) { set(d.boolean(v))(&p.TTY) }},
	{"nonewprivs", func(d *decoder, p *Program, v value) { set(d.boolean(v))(&p.NoNewPrivs) }},
}

// defaultProgram is a program with every optional key at its default.
func defaultProgram(name string) *Program {
	return &Program{
		Name:           name,
		NumProcs:       1,
		Umask:          -1,
		AutoStart:      true,
		AutoRestart:    RestartUnexpected,
		ExitCodes:      []int{0},
		StartRetries:   3,
		StartTime:      time.Second,
		StopSignal:     signals["TERM"],
		StopTime:       10 * time.Second,
		StdoutMaxBytes: 50 << 20,
		StdoutBackups:  10,
		StderrMaxBytes: 50 << 20,
		StderrBackups:  10,
		Env:            map[string]string{},
		UID:            -1,
		GID:            -1,
	}
}

// decodePrograms decodes `programs:`; null means no programs.
func (d *decoder) decodePrograms(c *Config, v value) {
	entries, ok := d.mapping(v, true)
	if !ok {
		return
	}
	c.cmdAt = map[string]*Error{}
	for _, e := range entries {
		if p := d.decodeProgram(c, e); p != nil {
			c.Programs[p.Name] = p
			c.Order = append(c.Order, p.Name)
		}
	}
}

func (d *decoder) decodeProgram(c *Config, e entry) *Program {
	if !programName().MatchString(e.key) {
		d.errorf(e.keyNode, e.val.path, "bad program name; use letters, digits, '_', '.' and '-'")
		return nil
	}
	if e.key == "all" {
		d.errorf(e.keyNode, e.val.path, `"all" is reserved: it names every program in commands`)
		return nil
	}
	fields, ok := d.mapping(e.val, false)
	if !ok {
		return nil
	}
	p := defaultProgram(e.key)
	byKey := decodeFields(d, p, d.withDefaults(fields, e.val.path), programFields)
	cmd, hasCmd := byKey["cmd"]
	if !hasCmd {
		d.errorf(e.keyNode, e.val.path+".cmd", "missing key")
	} else {
		line, col := position(cmd.val.node)
		c.cmdAt[p.Name] = &Error{File: d.file, Line: line, Col: col, Path: cmd.val.path}
	}
	d.checkTTY(p, byKey)
	d.resolveIDs(p, byKey)
	return p
}

// command splits cmd into Argv. A relative argv[0] holding a '/' is made
// absolute against the config's folder, like every other path in it; a
// bare name is left for PATH lookup at start.
func (d *decoder) command(p *Program, v value) {
	s, ok := d.str(v)
	if !ok {
		return
	}
	argv, err := SplitCommand(s)
	switch {
	case err != nil:
		d.errorf(v.node, v.path, "%v", err)
	case len(argv) == 0 || argv[0] == "":
		d.errorf(v.node, v.path, "empty command")
	case strings.ContainsRune(s, 0):
		d.errorf(v.node, v.path, "command contains a NUL byte")
	default:
		if strings.Contains(argv[0], "/") {
			argv[0] = d.absPath(argv[0])
		}
		p.Cmd, p.Argv = s, argv
	}
}

func (d *decoder) workingDir(p *Program, v value) {
	dir, ok := d.path(v)
	if !ok {
		return
	}
	if d.checkDir(v, dir) {
		p.WorkingDir = dir
	}
}

// checkDir records a problem unless dir exists and is a directory.
func (d *decoder) checkDir(v value, dir string) bool {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.errorf(v.node, v.path, "directory %s does not exist", dir)
	case err != nil:
		d.errorf(v.node, v.path, "%v", err)
	case !fi.IsDir():
		d.errorf(v.node, v.path, "%s is not a directory", dir)
	default:
		return true
	}
	return false
}

func (d *decoder) autoRestart(v value) (AutoRestart, bool) {
	s, ok := d.scalarOf(v)
	if ok && (s.kind == kindString || s.kind == kindBool) {
		switch strings.ToLower(s.text) {
		case "unexpected":
			return RestartUnexpected, true
		case "always", "true":
			return RestartAlways, true
		case "never", "false":
			return RestartNever, true
		}
	}
	d.errorf(v.node, v.path, "expected always, never or unexpected, got %s", d.describe(v))
	return 0, false
}

// exitCodes reads one exit code or a list of them. An empty list is
// allowed: every exit is then unexpected.
func (d *decoder) exitCodes(v value) ([]int, bool) {
	n, _, ok := d.resolve(v)
	if !ok {
		return nil, false
	}
	seq, isSeq := n.(*ast.SequenceNode)
	if !isSeq {
		code, ok := d.integer(v, 0, 255)
		return []int{code}, ok
	}
	codes, allOK := []int{}, true
	for i, item := range seq.Values {
		code, ok := d.integer(value{node: item, path: fmt.Sprintf("%s[%d]", v.path, i)}, 0, 255)
		codes, allOK = append(codes, code), allOK && ok
	}
	return codes, allOK
}

func (d *decoder) signal(v value) (syscall.Signal, bool) {
	s, ok := d.str(v)
	if !ok {
		return 0, false
	}
	sig, err := ParseSignal(s)
	if err != nil {
		d.errorf(v.node, v.path, "%v", err)
		return 0, false
	}
	return sig, true
}

// output reads stdout or stderr: a path whose folder exists, or null,
// "none" or /dev/null to discard the stream (""). /dev/null is what
// supervisor configs say; the worker opens regular files only.
func (d *decoder) output(v value) (string, bool) {
	s, ok := d.scalarOf(v)
	if ok && (s.kind == kindNull || (s.kind == kindString && (strings.EqualFold(s.text, "none") || filepath.Clean(s.text) == os.DevNull))) {
		return "", true
	}
	return d.filePath(v)
}

// filePath reads the path of a file to be opened or created later: it
// must not be a directory, and its folder must exist. Nothing is
// created: `taskmaster check` only looks.
func (d *decoder) filePath(v value) (string, bool) {
	p, ok := d.path(v)
	if !ok {
		return "", false
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		d.errorf(v.node, v.path, "%s is a directory", p)
		return "", false
	} else if err == nil && !fi.Mode().IsRegular() {
		// The worker would refuse it at every start: say so now.
		d.errorf(v.node, v.path, "%s is not a regular file (mode %s)", p, fi.Mode())
		return "", false
	}
	return p, d.checkDir(v, filepath.Dir(p))
}

// environ reads env: names to scalar values, each value as written
// (`ANSWER: 42` is "42").
func (d *decoder) environ(v value) (map[string]string, bool) {
	entries, ok := d.mapping(v, true)
	if !ok {
		return nil, false
	}
	env, allOK := map[string]string{}, true
	for _, e := range entries {
		val, ok := d.envEntry(e)
		env[e.key], allOK = val, allOK && ok
	}
	return env, allOK
}

func (d *decoder) envEntry(e entry) (string, bool) {
	if e.key == "" || strings.ContainsAny(e.key, "=\x00") {
		d.errorf(e.keyNode, e.val.path, "bad environment variable name %q", e.key)
		return "", false
	}
	s, ok := d.scalarOf(e.val)
	if !ok || s.kind == kindNull {
		d.errorf(e.val.node, e.val.path, `expected a scalar value, got %s (write "" for an empty value)`, d.describe(e.val))
		return "", false
	}
	if strings.ContainsRune(s.text, 0) {
		d.errorf(e.val.node, e.val.path, "value contains a NUL byte")
		return "", false
	}
	return s.text, true
}

// nonEmpty reads a string that must not be empty (user, group).
func (d *decoder) nonEmpty(v value) (string, bool) {
	s, ok := d.str(v)
	if ok && strings.TrimSpace(s) == "" {
		d.errorf(v.node, v.path, "must not be empty")
		return "", false
	}
	return s, ok
}

// checkTTY rejects stderr on a tty program: a pty merges both streams, so
// a separate stderr file would silently stay empty.
func (d *decoder) checkTTY(p *Program, byKey map[string]entry) {
	if e, ok := byKey["stderr"]; ok && p.TTY && p.Stderr != "" {
		d.errorf(e.val.node, e.val.path, "a tty program has one output stream; use stdout")
	}
}

// resolveIDs turns user and group into ids. Switching ids needs root
// (setuid(2)), so setting either as another user is an error now rather
// than a spawn failure later.
func (d *decoder) resolveIDs(p *Program, byKey map[string]entry) {
	ue, hasUser := byKey["user"]
	ge, hasGroup := byKey["group"]
	if hasUser && p.User != "" {
		d.resolveUser(p, ue.val)
	}
	if hasGroup && p.Group != "" {
		d.resolveGroup(p, ge.val)
	}
}

func (d *decoder) resolveUser(p *Program, v value) {
	if d.env.Euid != 0 {
		d.errorf(v.node, v.path, "user requires taskmaster to run as root")
		return
	}
	u, err := d.env.LookupUser(p.User)
	if err != nil {
		d.errorf(v.node, v.path, "%s", lookupMessage("user", p.User, err))
		return
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		d.errorf(v.node, v.path, "user %q has a non-numeric uid or gid", p.User)
		return
	}
	p.UID, p.GID = uid, gid // resolveGroup, called after, overrides GID
}

func (d *decoder) resolveGroup(p *Program, v value) {
	if d.env.Euid != 0 {
		d.errorf(v.node, v.path, "group requires taskmaster to run as root")
		return
	}
	g, err := d.env.LookupGroup(p.Group)
	if err != nil {
		d.errorf(v.node, v.path, "%s", lookupMessage("group", p.Group, err))
		return
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		d.errorf(v.node, v.path, "group %q has a non-numeric gid", p.Group)
		return
	}
	p.GID = gid
}

// lookupMessage says "unknown user" for a name that does not exist and
// keeps the cause for anything else (an unreachable NSS service, say).
func lookupMessage(kind, name string, err error) string {
	var (
		uu  user.UnknownUserError
		uid user.UnknownUserIdError
		ug  user.UnknownGroupError
		gid user.UnknownGroupIdError
	)
	if errors.As(err, &uu) || errors.As(err, &uid) || errors.As(err, &ug) || errors.As(err, &gid) {
		return fmt.Sprintf("unknown %s %q", kind, name)
	}
	return fmt.Sprintf("look up %s %q: %v", kind, name, err)
}
