package config

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "taskmaster.yaml", Line: 14, Col: 17, Path: "programs.web.stopsignal", Msg: `unknown signal "SIGFOO"`}
	if got, want := e.Error(), `taskmaster.yaml:14:17: programs.web.stopsignal: unknown signal "SIGFOO"`; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	noPath := &Error{File: "f.yaml", Line: 1, Col: 2, Msg: "yaml: bad"}
	if got := noPath.Error(); got != "f.yaml:1:2: yaml: bad" {
		t.Errorf("Error() without path = %q", got)
	}
	es := Errors{e, noPath}
	if got := es.Error(); got != e.Error()+"\n"+noPath.Error() {
		t.Errorf("Errors.Error() = %q", got)
	}
	var target *Error
	if !errors.As(error(es), &target) || target != e {
		t.Errorf("errors.As does not find the first *Error")
	}
}

// TestErrorPath checks that FILE is the path exactly as passed.
func TestErrorPath(t *testing.T) {
	for _, path := range []string{"taskmaster.yaml", "./x/../taskmaster.yaml", "/etc/taskmaster/taskmaster.yaml"} {
		_, err := Parse(path, []byte("programs: {web: {cmd: /bin/true, numprocs: x}}"), Env{})
		if err == nil || !strings.HasPrefix(err.Error(), path+":1:") {
			t.Errorf("Parse(%q): error %q does not start with the path", path, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "taskmaster.yaml")
	writeFile(t, path, "programs:\n  web:\n    cmd: ./run.sh\n    stdout: web.log\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dir != dir || cfg.Path != path {
		t.Errorf("Dir, Path = %q, %q; want %q, %q", cfg.Dir, cfg.Path, dir, path)
	}
	web := cfg.Programs["web"]
	if web.Argv[0] != filepath.Join(dir, "run.sh") || web.Stdout != filepath.Join(dir, "web.log") {
		t.Errorf("relative paths not resolved against %s: %q, %q", dir, web.Argv[0], web.Stdout)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want ErrNotExist", err)
	}
}

// TestLoadRelativePath checks that a relative config path resolves
// against the working directory, and errors keep the path as given.
func TestLoadRelativePath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sub", "tm.yaml"), "programs: {web: {cmd: /bin/true, stoptime: x}}\n")
	t.Chdir(dir)
	_, err := Load("sub/tm.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "sub/tm.yaml:1:") {
		t.Errorf("Load error = %v", err)
	}
	writeFile(t, filepath.Join(dir, "sub", "tm.yaml"), "programs: {web: {cmd: /bin/true}}\n")
	cfg, err := Load("sub/tm.yaml")
	if err != nil || cfg.Dir != filepath.Join(dir, "sub") {
		t.Fatalf("Load = %v; Dir %q", err, cfg.Dir)
	}
}

func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	writeFile(t, filepath.Join(bin, "tool"), "#!/bin/sh\n")
	writeFile(t, filepath.Join(dir, "noexec"), "")
	if err := os.Chmod(filepath.Join(bin, "tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	src := `programs:
  inpath: {cmd: tool}
  ownpath: {cmd: tool, env: {PATH: /nonexistent}}
  abs: {cmd: ./bin/tool}
  noexec: {cmd: ./noexec}
  dir: {cmd: ./bin}
  missing: {cmd: "nope -x"}
`
	cfg, err := Parse(filepath.Join(dir, "tm.yaml"), []byte(src), Env{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.Warnings(), "\n")
	want := strings.Join([]string{
		dir + `/tm.yaml:3:18: programs.ownpath.cmd: can't find command "tool"`,
		dir + `/tm.yaml:5:17: programs.noexec.cmd: can't find command "` + dir + `/noexec"`,
		dir + `/tm.yaml:6:14: programs.dir.cmd: can't find command "` + dir + `/bin"`,
		dir + `/tm.yaml:7:18: programs.missing.cmd: can't find command "nope"`,
	}, "\n")
	if got != want {
		t.Errorf("Warnings:\n%s\nwant:\n%s", got, want)
	}
}

// TestWarningsSkipRelativePath checks that "." in PATH does not count, as
// in os/exec since Go 1.19.
func TestWarningsSkipRelativePath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tool"), "")
	if err := os.Chmod(filepath.Join(dir, "tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if findable("tool", ".:") {
		t.Error("found tool through a relative PATH entry")
	}
	if !findable("tool", dir) {
		t.Error("did not find tool through an absolute PATH entry")
	}
}

// TestEnvDefaults checks that a zero Env falls back to os/user and that an
// unknown home does not break the default history.
func TestEnvDefaults(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip("no current user:", err)
	}
	src := "programs:\n  a: {cmd: /bin/true, user: " + me.Username + "}\n  b: {cmd: /bin/true, user: \"" + me.Uid + "\"}\n"
	cfg, err := Parse("/etc/tm.yaml", []byte(src), Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if p := cfg.Programs[name]; p.UID < 0 || p.GID < 0 {
			t.Errorf("%s: UID %d GID %d not resolved", name, p.UID, p.GID)
		}
	}
	if cfg.Global.History != "/etc/run/history" {
		t.Errorf("History without a home = %q", cfg.Global.History)
	}
	_, err = Parse("/etc/tm.yaml", []byte("taskmaster: {history: ~/h}\nprograms: {}\n"), Env{})
	if err == nil || !strings.Contains(err.Error(), "home directory unknown") {
		t.Errorf("~ without a home: %v", err)
	}
}

// TestUserGroupIDs checks GID selection: the user's primary group unless
// group is set, and group alone leaves UID unset.
func TestUserGroupIDs(t *testing.T) {
	src := `programs:
  u: {cmd: /bin/true, user: www-data}
  ug: {cmd: /bin/true, user: alice, group: adm}
  g: {cmd: /bin/true, group: "4"}
`
	cfg, err := Parse("t.yaml", []byte(src), testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"u": {33, 33}, "ug": {1000, 4}, "g": {-1, 4}}
	for name, ids := range want {
		p := cfg.Programs[name]
		if p.UID != ids[0] || p.GID != ids[1] {
			t.Errorf("%s: uid %d gid %d; want %d %d", name, p.UID, p.GID, ids[0], ids[1])
		}
	}
}

// TestLookupFailure checks that a lookup error other than "unknown" keeps
// its cause.
func TestLookupFailure(t *testing.T) {
	env := testEnv(nil)
	env.LookupUser = func(string) (*user.User, error) { return nil, errors.New("nss down") }
	_, err := Parse("t.yaml", []byte("programs: {a: {cmd: /bin/true, user: bob}}"), env)
	if err == nil || !strings.Contains(err.Error(), `programs.a.user: look up user "bob": nss down`) {
		t.Errorf("err = %v", err)
	}
}

// TestParseDoesNotMutate checks that two parses of one input give equal,
// independent results (no state kept between calls).
func TestParseDoesNotMutate(t *testing.T) {
	data := []byte("programs: {a: {cmd: /bin/true, exitcodes: [1, 2], env: {A: b}}}")
	c1, err1 := Parse("t.yaml", data, Env{})
	c2, err2 := Parse("t.yaml", data, Env{})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	c1.Programs["a"].ExitCodes[0] = 99
	c1.Programs["a"].Env["A"] = "changed"
	if p := c2.Programs["a"]; !slices.Equal(p.ExitCodes, []int{1, 2}) || p.Env["A"] != "b" {
		t.Errorf("second parse shares data with the first: %v %v", p.ExitCodes, p.Env)
	}
	p := defaultProgram("x")
	p.ExitCodes[0] = 7
	if defaultProgram("y").ExitCodes[0] != 0 {
		t.Error("defaultProgram shares its ExitCodes slice")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOutputSpecialFiles: /dev/null discards, as in supervisor configs; a
// device or FIFO where a log belongs is an error at check, located at its
// key, not a spawn error at every start.
func TestOutputSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "taskmaster.yaml")
	writeFile(t, path, "programs:\n  web:\n    cmd: /bin/true\n    stdout: /dev/null\n    stderr: /dev/null\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if web := cfg.Programs["web"]; web.Stdout != "" || web.Stderr != "" {
		t.Errorf("stdout, stderr = %q, %q; want both discarded", web.Stdout, web.Stderr)
	}
	for _, target := range []string{"/dev/zero", fifo} {
		writeFile(t, path, "programs:\n  web:\n    cmd: /bin/true\n    stdout: "+target+"\n")
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), ":4:13: programs.web.stdout: "+target+" is not a regular file") {
			t.Errorf("stdout %s: err = %v; want a located 'not a regular file'", target, err)
		}
	}
}
