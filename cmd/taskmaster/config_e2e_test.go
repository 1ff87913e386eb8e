package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/worker/testuser"
)

// mergeBomb is issue 10's config bomb: nine levels of nine merges, so the
// program would hold 9^9 merged mappings. Before the limits, `check` ran
// for minutes and a SIGHUP reload burned a core and held the reload lock
// for good.
const mergeBomb = `programs:
  x0: &x0 {cmd: /bin/true, env: {A: a}}
  x1: &x1 {<<: [*x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0]}
  x2: &x2 {<<: [*x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1]}
  x3: &x3 {<<: [*x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2]}
  x4: &x4 {<<: [*x3, *x3, *x3, *x3, *x3, *x3, *x3, *x3, *x3]}
  x5: &x5 {<<: [*x4, *x4, *x4, *x4, *x4, *x4, *x4, *x4, *x4]}
  x6: &x6 {<<: [*x5, *x5, *x5, *x5, *x5, *x5, *x5, *x5, *x5]}
  x7: &x7 {<<: [*x6, *x6, *x6, *x6, *x6, *x6, *x6, *x6, *x6]}
  x8: &x8 {<<: [*x7, *x7, *x7, *x7, *x7, *x7, *x7, *x7, *x7]}
  x9: &x9 {<<: [*x8, *x8, *x8, *x8, *x8, *x8, *x8, *x8, *x8]}
  web:
    <<: *x9
`

const bombError = ":7:17: too many alias expansions (the document would expand to more than 100000 nodes)"

func TestCheckRefusesBombs(t *testing.T) {
	_, bomb := writeConfig(t, mergeBomb)
	out, code := runBinary(t, "check", "-c", bomb)
	if code != 2 || out != bomb+bombError+"\n" {
		t.Fatalf("check of the merge bomb: %d %q", code, out)
	}
	_, deep := writeConfig(t, "programs: "+strings.Repeat("[", 100_000)+"\n")
	out, code = runBinary(t, "check", "-c", deep)
	if code != 2 || out != deep+":1:74: nested too deeply (more than 64 levels)\n" {
		t.Fatalf("check of 100000 nested [: %d %q", code, out)
	}
}

// A master that gets the bomb by SIGHUP refuses it, and the reload lock
// is free for the next reload.
func TestReloadSurvivesBomb(t *testing.T) {
	m := startMaster(t, reloadBase)
	before := m.pids("keep")
	good, _ := os.ReadFile(m.cfg)
	m.rewrite(mergeBomb)
	m.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 20*time.Second, "the refused reload in the event log", func() bool {
		return strings.Contains(m.log(), "reload failed, nothing changed: "+m.cfg+bombError)
	})
	out, code := m.ctl("reload")
	if code != 1 || !strings.Contains(out, m.cfg+bombError) {
		t.Fatalf("ctl reload of the bomb: %d %q", code, out)
	}
	m.rewrite(string(good) + "  added:\n    cmd: sleep 1000\n    starttime: 0\n")
	if out := m.reload(); out != "added: added\n" {
		t.Fatalf("reload after the bomb: %q", out)
	}
	if after := m.pids("keep", "added"); after["keep"] != before["keep"] {
		t.Fatalf("keep restarted: %v -> %v", before, after)
	}
}

// check verifies what the master will open or create, and a reload to an
// event log that cannot be opened changes nothing.
func TestCheckAndReloadVerifyLogfileAndRundir(t *testing.T) {
	_, cfg := writeConfig(t, "taskmaster:\n  logfile: /nonexistent/dir/tm.log\n  rundir: /nonexistent/run\nprograms: {}\n")
	out, code := runBinary(t, "check", "-c", cfg)
	want := cfg + ":2:12: taskmaster.logfile: directory /nonexistent/dir does not exist\n" +
		cfg + ":3:11: taskmaster.rundir: cannot create /nonexistent/run: /nonexistent is not an existing directory\n"
	if code != 2 || out != want {
		t.Fatalf("check: %d %q\nwant %q", code, out, want)
	}

	m := startMaster(t, reloadBase)
	before := m.pids("keep")
	m.rewrite("taskmaster:\n  logfile: /nonexistent/dir/tm.log\n" + reloadBase)
	out, code = m.ctl("reload")
	if code != 1 || !strings.Contains(out, m.cfg+":2:12: taskmaster.logfile: directory /nonexistent/dir does not exist") {
		t.Fatalf("reload to a missing folder: %d %q", code, out)
	}
	// Its folder exists, but nothing can be created in /proc.
	m.rewrite("taskmaster:\n  logfile: /proc/tmcf-event.log\n" + reloadBase)
	out, code = m.ctl("reload")
	if code != 1 || !strings.Contains(out, m.cfg+": taskmaster.logfile: ") || !strings.Contains(out, "nothing changed") {
		t.Fatalf("reload to a log that cannot be opened: %d %q", code, out)
	}
	if out, _ := m.ctl("reread"); out != "taskmaster: changed (logfile)\n" {
		t.Fatalf("the refused reload applied something: reread says %q", out)
	}
	m.ctl("pid")
	if !strings.Contains(m.log(), "reload failed, nothing changed: "+m.cfg+": taskmaster.logfile: ") {
		t.Fatalf("the event log did not stay in place:\n%s", m.log())
	}
	if after := m.pids("keep"); after["keep"] != before["keep"] {
		t.Fatalf("keep restarted")
	}
}

// A config broken while the master runs does not lock ctl out: the socket
// is read from the part of the file before the syntax error, or defaults.
func TestCtlWithBrokenConfig(t *testing.T) {
	dir, cfg := writeConfig(t, "taskmaster:\n  socket: {{DIR}}/ctl/tm.sock\nprograms:\n  keep: {cmd: sleep 1000, starttime: 0}\n")
	// launch waits for the default socket; a plain file there also proves
	// that ctl dials the configured one.
	for _, d := range []string{"ctl", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "run", "taskmaster.sock"), nil, 0o600)
	m := launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
	sock := filepath.Join(dir, "ctl", "tm.sock")
	waitFor(t, 10*time.Second, "the configured socket", func() bool { _, err := os.Stat(sock); return err == nil })
	m.waitState("keep", "RUNNING", nil)

	m.rewrite("taskmaster:\n  socket: {{DIR}}/ctl/tm.sock\nprograms:\n  keep: {cmd: sleep 1000\n")
	out, code := m.ctl("status", "keep")
	if code != 0 || !strings.Contains(out, "RUNNING") {
		t.Fatalf("ctl -c with a syntax error: %d %q", code, out)
	}
	// Where the socket cannot be read, ctl names the one it tried and -s.
	m.rewrite("taskmaster: {socket: {{DIR}}/ctl/tm.sock\nprograms: {}\n")
	out, code = m.ctl("status")
	want := "taskmaster ctl: " + m.cfg + " has errors, so the socket read from it may not be the master's: tried " +
		filepath.Join(dir, "run", "taskmaster.sock") + " (connection refused); pass the master's socket with -s SOCKET\n"
	if code != 1 || !strings.HasPrefix(out, m.cfg+":2:1: yaml: ") || !strings.HasSuffix(out, want) {
		t.Fatalf("ctl -c when the socket cannot be known: %d %q\nwant the config error, then %q", code, out, want)
	}
	if out, code := runBinary(t, "ctl", "-s", sock, "status", "keep"); code != 0 || !strings.Contains(out, "RUNNING") {
		t.Fatalf("ctl -s: %d %q", code, out)
	}
}

// Jobs of another user start from a clean environment with clearenv; the
// master, running as root, warns about the secrets it would otherwise
// pass on, naming them and the programs, never their values.
func TestClearEnvKeepsMasterSecrets(t *testing.T) {
	name := testuser.New(t, "cf", testuser.Options{Shell: "/bin/sh"}).Name
	t.Setenv("DB_PASSWORD", "hunter2-tmcf")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "aws-tmcf")
	// A clean environment does not carry the harness's marker: the config
	// gives the jobs one of their own, for the clean-up.
	marker := "TMCF_MARKER=" + t.Name()
	t.Cleanup(func() { killLeftovers(marker) })
	yaml := `
defaults:
  user: ` + name + `
  workingdir: /
  starttime: 0
  env: {TMCF_MARKER: ` + t.Name() + `}
programs:
  clean:
    cmd: sleep 1000
    clearenv: true
    env: {TMCF_MARKER: ` + t.Name() + `, EXTRA: "yes"}
  rootclean:
    cmd: sleep 1000
    clearenv: true
    user: root
  leaky:
    cmd: sleep 1000
`
	_, cfg := writeConfig(t, yaml)
	out, code := runBinary(t, "check", "-c", cfg)
	warning := "taskmaster runs as root and passes its environment to programs that run as other users (leaky); " +
		"it holds variables that look like secrets (AWS_SECRET_ACCESS_KEY, DB_PASSWORD): set clearenv: true for those programs, or in defaults"
	if code != 0 || !strings.Contains(out, "warning: "+warning+"\n") {
		t.Fatalf("check: %d %q", code, out)
	}
	m := startMaster(t, yaml)
	envOf := func(proc string) []string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", m.waitState(proc, "RUNNING", nil).Pid))
		env := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		slices.Sort(env)
		return env
	}
	want := []string{"EXTRA=yes", "HOME=/home/" + name, "LOGNAME=" + name, "PATH=" + config.CleanPath,
		"SHELL=/bin/sh", marker, "USER=" + name}
	if got := envOf("clean"); !slices.Equal(got, want) {
		t.Errorf("clean job's environment:\n got %q\nwant %q", got, want)
	}
	root, _ := user.LookupId("0")
	want = []string{"HOME=" + root.HomeDir, "LOGNAME=root", "PATH=" + config.CleanPath, "SHELL=" + rootShell(t), marker, "USER=root"}
	if got := envOf("rootclean"); !slices.Equal(got, want) {
		t.Errorf("root's clean job's environment:\n got %q\nwant %q", got, want)
	}
	if got := envOf("leaky"); !slices.Contains(got, "DB_PASSWORD=hunter2-tmcf") || !slices.Contains(got, "USER="+name) {
		t.Errorf("a job without clearenv inherits the master's environment; got %q", got)
	}
	if !strings.Contains(m.log(), "WARN  taskmaster: "+warning+"\n") || !strings.Contains(m.out.String(), "taskmaster: warning: "+warning+"\n") {
		t.Errorf("no warning at start in the event log and on stderr")
	}
	if strings.Contains(m.log()+m.out.String(), "hunter2") {
		t.Errorf("a secret's value was logged")
	}
}

// rootShell is root's login shell from /etc/passwd.
func rootShell(t *testing.T) string {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, ":"); len(f) == 7 && f[2] == "0" {
			return f[6]
		}
	}
	t.Fatal("no root in /etc/passwd")
	return ""
}
