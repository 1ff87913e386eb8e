package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata goldens and the FuzzParse seed corpus")

// fakeUsers and fakeGroups stand in for /etc/passwd and /etc/group so that
// tests do not depend on the machine.
var (
	fakeUsers = []*user.User{
		{Username: "www-data", Uid: "33", Gid: "33"},
		{Username: "alice", Uid: "1000", Gid: "1000"},
	}
	fakeGroups = []*user.Group{
		{Name: "www-data", Gid: "33"},
		{Name: "adm", Gid: "4"},
	}
)

func fakeLookupUser(s string) (*user.User, error) {
	for _, u := range fakeUsers {
		if u.Username == s || u.Uid == s {
			return u, nil
		}
	}
	if _, err := strconv.Atoi(s); err == nil {
		id, _ := strconv.Atoi(s)
		return nil, user.UnknownUserIdError(id)
	}
	return nil, user.UnknownUserError(s)
}

func fakeLookupGroup(s string) (*user.Group, error) {
	for _, g := range fakeGroups {
		if g.Name == s || g.Gid == s {
			return g, nil
		}
	}
	if _, err := strconv.Atoi(s); err == nil {
		return nil, user.UnknownGroupIdError(s)
	}
	return nil, user.UnknownGroupError(s)
}

// euidDirective lets a test file ask to be parsed as a non-root user.
var euidDirective = regexp.MustCompile(`(?m)^# euid: ([0-9]+)$`)

// testEnv is root with the fake users and groups and a fixed home, unless
// the file says "# euid: N".
func testEnv(data []byte) Env {
	env := Env{Euid: 0, LookupUser: fakeLookupUser, LookupGroup: fakeLookupGroup, Home: "/home/tester"}
	if m := euidDirective.FindSubmatch(data); m != nil {
		env.Euid, _ = strconv.Atoi(string(m[1]))
	}
	return env
}

// TestGoodConfigs parses each testdata/good file and compares a dump of the
// Config (with Warnings) to its golden.
func TestGoodConfigs(t *testing.T) {
	t.Setenv("PATH", "/usr/bin:/bin") // Warnings search PATH
	forEachYAML(t, "testdata/good", func(t *testing.T, path string, data []byte) string {
		cfg, err := Parse(path, data, testEnv(data))
		if err != nil {
			t.Fatalf("Parse: unexpected error:\n%v", err)
		}
		checkInvariants(t, cfg)
		return dumpConfig(cfg)
	})
}

// TestBadConfigs parses each testdata/bad file and compares the error
// lines to its golden.
func TestBadConfigs(t *testing.T) {
	forEachYAML(t, "testdata/bad", func(t *testing.T, path string, data []byte) string {
		cfg, err := Parse(path, data, testEnv(data))
		if err == nil {
			t.Fatalf("Parse succeeded, want errors; got %+v", cfg)
		}
		if cfg != nil {
			t.Errorf("Parse returned a Config along with errors")
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is %T, want non-empty Errors", err)
		}
		checkSorted(t, errs)
		return hideDir(err.Error(), mustAbs(t, filepath.Dir(path))) + "\n"
	})
}

// forEachYAML runs check on every DIR/*.yaml and compares its output to
// the .golden beside it, or rewrites the golden with -update.
func forEachYAML(t *testing.T, dir string, check func(*testing.T, string, []byte) string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s (%v)", dir, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, strings.TrimSuffix(path, ".yaml")+".golden", check(t, path, data))
		})
	}
}

func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./config -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n--- got:\n%s\n--- want:\n%s", golden, got, want)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func checkSorted(t *testing.T, errs Errors) {
	t.Helper()
	for i, e := range errs {
		if e.Line < 1 || e.Col < 1 {
			t.Errorf("error %d has no position: %v", i, e)
		}
		if i > 0 && (e.Line < errs[i-1].Line || (e.Line == errs[i-1].Line && e.Col < errs[i-1].Col)) {
			t.Errorf("errors not sorted: %v before %v", errs[i-1], e)
		}
	}
}

// dumpConfig prints every field of cfg in a stable order, with the config
// folder replaced by $DIR so goldens do not depend on the checkout.
func dumpConfig(c *Config) string {
	var b strings.Builder
	g := c.Global
	fmt.Fprintf(&b, "dir: %s\n", c.Dir)
	fmt.Fprintf(&b, "global.logfile: %s\nglobal.rundir: %s\nglobal.socket: %s\n", g.LogFile, g.RunDir, g.Socket)
	fmt.Fprintf(&b, "global.history: %s\nglobal.detachkey: % x\nglobal.notify: %v\n", g.History, g.DetachKey, g.Notify)
	fmt.Fprintf(&b, "global.xmlrpc: %q\n", g.XMLRPC)
	if g.StateDir != "" {
		fmt.Fprintf(&b, "global.statedir: %s\n", g.StateDir)
	}
	if g.Inet != nil {
		fmt.Fprintf(&b, "global.inet: %s user %q password %q\n", g.Inet.Listen, g.Inet.Username, g.Inet.Password)
	}
	for _, name := range c.Order {
		dumpProgram(&b, c.Programs[name])
	}
	fmt.Fprintf(&b, "names: %s\n", abbreviate(c.Names()))
	for _, w := range c.Warnings() {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return hideDir(b.String(), c.Dir)
}

// hideDir replaces the test data folder, and its parent, with $DIR.
func hideDir(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	return strings.ReplaceAll(s, filepath.Dir(dir), "$DIR/..")
}

func dumpProgram(b *strings.Builder, p *Program) {
	fmt.Fprintf(b, "program %s\n", p.Name)
	fmt.Fprintf(b, "  cmd: %q\n  argv: %q\n  numprocs: %d\n", p.Cmd, p.Argv, p.NumProcs)
	fmt.Fprintf(b, "  processes: %s\n", abbreviate(p.ProcessNames()))
	umask := "inherit"
	if p.Umask >= 0 {
		umask = fmt.Sprintf("%04o", p.Umask)
	}
	fmt.Fprintf(b, "  umask: %s\n  workingdir: %q\n", umask, p.WorkingDir)
	fmt.Fprintf(b, "  autostart: %v\n  autorestart: %v\n  exitcodes: %v\n", p.AutoStart, p.AutoRestart, p.ExitCodes)
	fmt.Fprintf(b, "  startretries: %d\n  starttime: %v\n", p.StartRetries, p.StartTime)
	fmt.Fprintf(b, "  stopsignal: %s (%d)\n  stoptime: %v\n", SignalName(p.StopSignal), int(p.StopSignal), p.StopTime)
	fmt.Fprintf(b, "  stdout: %q maxbytes %d backups %d\n", p.Stdout, p.StdoutMaxBytes, p.StdoutBackups)
	fmt.Fprintf(b, "  stderr: %q maxbytes %d backups %d\n", p.Stderr, p.StderrMaxBytes, p.StderrBackups)
	fmt.Fprintf(b, "  env:%s\n  clearenv: %v\n", dumpEnv(p.Env), p.ClearEnv)
	fmt.Fprintf(b, "  user: %q uid %d\n  group: %q gid %d\n", p.User, p.UID, p.Group, p.GID)
	fmt.Fprintf(b, "  tty: %v\n  nonewprivs: %v\n", p.TTY, p.NoNewPrivs)
}

func dumpEnv(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, env[k])
	}
	return b.String()
}

// abbreviate keeps goldens readable for numprocs in the hundreds.
func abbreviate(names []string) string {
	if len(names) <= 12 {
		return strings.Join(names, " ")
	}
	return fmt.Sprintf("%s … %s (%d)", strings.Join(names[:3], " "), strings.Join(names[len(names)-2:], " "), len(names))
}

// checkInvariants asserts what the package doc promises of a valid Config.
// FuzzParse uses it too, hence the plain error reports.
func checkInvariants(t testing.TB, c *Config) {
	t.Helper()
	if c == nil {
		t.Fatal("nil Config without error")
	}
	paths := []string{c.Dir, c.Global.LogFile, c.Global.RunDir, c.Global.Socket, c.Global.History}
	if len(c.Order) != len(c.Programs) {
		t.Errorf("Order has %d names, Programs %d", len(c.Order), len(c.Programs))
	}
	for _, name := range c.Order {
		p := c.Programs[name]
		if p == nil || p.Name != name {
			t.Fatalf("program %q missing or misnamed", name)
		}
		checkProgram(t, p)
		paths = append(paths, nonEmpty(p.WorkingDir, p.Stdout, p.Stderr)...)
	}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			t.Errorf("path %q is not absolute", p)
		}
	}
	if len(c.Global.DetachKey) == 0 {
		t.Error("empty DetachKey")
	}
}

func checkProgram(t testing.TB, p *Program) {
	t.Helper()
	switch {
	case p.NumProcs < 1 || p.NumProcs > maxNumProcs:
		t.Errorf("%s: NumProcs %d", p.Name, p.NumProcs)
	case len(p.Argv) == 0 || p.Argv[0] == "":
		t.Errorf("%s: empty Argv %q", p.Name, p.Argv)
	case p.Umask < -1 || p.Umask > 0o777:
		t.Errorf("%s: Umask %o", p.Name, p.Umask)
	case p.Env == nil || p.ExitCodes == nil:
		t.Errorf("%s: nil Env or ExitCodes", p.Name)
	case len(p.ProcessNames()) != p.NumProcs:
		t.Errorf("%s: %d process names for numprocs %d", p.Name, len(p.ProcessNames()), p.NumProcs)
	case p.StartTime < 0 || p.StopTime < 0 || p.StdoutMaxBytes < 0 || p.StderrMaxBytes < 0:
		t.Errorf("%s: negative duration or size", p.Name)
	case (p.User == "") != (p.UID == -1):
		t.Errorf("%s: User %q with UID %d", p.Name, p.User, p.UID)
	}
	for _, code := range p.ExitCodes {
		if code < 0 || code > 255 {
			t.Errorf("%s: exit code %d", p.Name, code)
		}
	}
}

func nonEmpty(ss ...string) []string {
	return slices.DeleteFunc(ss, func(s string) bool { return s == "" })
}
