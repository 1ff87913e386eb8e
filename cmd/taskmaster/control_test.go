package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const twoPrograms = `
programs:
  web:
    cmd: sleep 1000
    numprocs: 2
    starttime: 0
  idle:
    cmd: sleep 1000
    autostart: false
`

func TestCtlCommands(t *testing.T) {
	m := startMaster(t, twoPrograms)
	m.waitState("web:web_00", "RUNNING", nil)
	m.waitState("web:web_01", "RUNNING", nil)

	out, code := m.ctl("status")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("status: %d %q", code, out)
	}
	running := regexp.MustCompile(`^web:web_00                       RUNNING   pid \d+, uptime 0:00:\d\d$`)
	if !running.MatchString(lines[0]) || lines[2] != "idle                             STOPPED   Not started" {
		t.Fatalf("status lines:\n%s", out)
	}

	m.ctlSteps(t.Errorf, []ctlStep{
		{[]string{"start", "idle"}, "idle: started\n", 0},
		{[]string{"start", "idle"}, "idle: ERROR (already started)\n", 1},
		{[]string{"stop", "web:*"}, "web:web_00: stopped\nweb:web_01: stopped\n", 0},
		{[]string{"stop", "web:web_00"}, "web:web_00: ERROR (not running)\n", 1},
		{[]string{"start", "web"}, "web:web_00: started\nweb:web_01: started\n", 0},
		{[]string{"restart", "idle"}, "idle: stopped\nidle: started\n", 0},
		{[]string{"stop", "idle", "bogus"}, "ERROR (no such process): bogus\n", 1},
		{[]string{"signal", "FOO", "idle"}, "ERROR (bad signal name): FOO\n", 1},
		{[]string{"signal", "usr1"}, "ERROR (bad arguments): usage: signal SIG NAME...\n", 1},
		{[]string{"start"}, "ERROR (bad arguments): usage: start NAME...\n", 1},
		{[]string{"frobnicate"}, "ERROR (no such command): frobnicate\n", 1},
		{[]string{"status", "nope"}, "ERROR (no such process): nope\n", 1},
		{[]string{"tail", "web"}, "ERROR (bad arguments): tail takes one process; web names 2\n", 1},
		{[]string{"version"}, "0.1.0\n", 0},
	})
	// "change nothing": idle is still running after the refused stop.
	if st := m.status("idle"); st.State != "RUNNING" {
		t.Fatalf("idle %s after a refused stop", st.State)
	}

	idle := m.status("idle")
	out, code = m.ctl("pid", "idle")
	if code != 0 || out != fmt.Sprintf("%d\n", idle.Pid) {
		t.Fatalf("pid idle: %q", out)
	}
	out, _ = m.ctl("pid")
	if strings.TrimSpace(out) != strconv.Itoa(m.cmd.Process.Pid) {
		t.Fatalf("pid: %q, master is %d", out, m.cmd.Process.Pid)
	}
	out, code = m.ctl("signal", "KILL", "idle")
	if code != 0 || out != "idle: signalled\n" {
		t.Fatalf("signal: %d %q", code, out)
	}
	m.waitState("idle", "RUNNING", func(in procInfo) bool { return in.Pid != idle.Pid })

	out, _ = m.ctl("status", "--json")
	var infos []map[string]any
	if err := json.Unmarshal([]byte(out), &infos); err != nil || len(infos) != 3 {
		t.Fatalf("status --json: %v %q", err, out)
	}
	for _, key := range []string{"name", "group", "state", "pid", "uptime", "exitstatus", "restarts", "description"} {
		if _, ok := infos[0][key]; !ok {
			t.Errorf("status --json lacks %q", key)
		}
	}
	if infos[0]["group"] != "web" {
		t.Errorf("group %v", infos[0]["group"])
	}
	out, _ = m.ctl("avail")
	if !strings.Contains(out, "idle") || !strings.Contains(out, "manual") {
		t.Errorf("avail: %q", out)
	}
	out, _ = m.ctl("help")
	for _, c := range []string{"status", "start", "stop", "restart", "signal", "pid", "shutdown"} {
		if !strings.Contains(out, c) {
			t.Errorf("help lacks %s", c)
		}
	}

	out, code = m.ctl("shutdown")
	if code != 0 || out != "Shut down\n" {
		t.Fatalf("shutdown: %d %q", code, out)
	}
	if code := m.waitExit(10e9); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
	if left := ours(m.marker); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

func TestCtlWithoutMaster(t *testing.T) {
	_, cfg := writeConfig(t, twoPrograms)
	out, code := runBinary(t, "ctl", "-c", cfg, "status")
	if code != 1 || !strings.Contains(out, "no taskmaster is running on") {
		t.Fatalf("%d %q", code, out)
	}
}

// The ctl shell reads lines; exit leaves the client, not the master.
func TestCtlShellLines(t *testing.T) {
	m := startMaster(t, twoPrograms)
	m.waitState("web:web_00", "RUNNING", nil)
	in := filepath.Join(m.dir, "cmds")
	os.WriteFile(in, []byte("status idle\nexit\nstatus web\n"), 0o644)
	f, _ := os.Open(in)
	defer f.Close()
	cmd := execBinary("ctl", "-c", m.cfg)
	cmd.Stdin = f
	b, err := cmd.CombinedOutput()
	if err != nil || string(b) != "idle                             STOPPED   Not started\n" {
		t.Fatalf("ctl shell: %v %q", err, b)
	}
	if st := m.status("web:web_00"); st.State != "RUNNING" {
		t.Fatalf("master affected by the client's exit")
	}
}

// With stdin not a terminal the master reads commands line by line, plain;
// EOF means shutdown.
func TestMasterReadsStdin(t *testing.T) {
	dir, cfg := writeConfig(t, twoPrograms)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := launch(t, dir, cfg, r, "-c", cfg)
	m.waitState("web:web_01", "RUNNING", nil)
	fmt.Fprintln(w, "status idle")
	fmt.Fprintln(w, "start idle")
	m.waitState("idle", "RUNNING", nil)
	w.Close()
	if code := m.waitExit(10e9); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	want := "idle                             STOPPED   Not started\nidle: started\nShut down\n"
	if m.out.String() != want {
		t.Fatalf("output %q, want %q", m.out.String(), want)
	}
	if left := ours(m.marker); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

func TestSecondMasterRefused(t *testing.T) {
	m := startMaster(t, twoPrograms)
	out, code := runBinary(t, "-c", m.cfg, "--no-shell")
	want := fmt.Sprintf("another taskmaster is running (pid %d)", m.cmd.Process.Pid)
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("second master: %d %q", code, out)
	}
	if st := m.status("web:web_00"); st.State != "RUNNING" && st.State != "STARTING" {
		t.Fatalf("first master disturbed: %+v", st)
	}
}

func TestCheck(t *testing.T) {
	_, good := writeConfig(t, twoPrograms)
	out, code := runBinary(t, "check", "-c", good)
	if code != 0 || out != "OK\n" {
		t.Fatalf("good config: %d %q", code, out)
	}
	dir, bad := writeConfig(t, `
programs:
  web:
    cmd: sleep 1
    stoptme: 3
    stopsignal: SIGFOO
  api:
    numprocs: -1
`)
	out, code = runBinary(t, "check", "-c", bad)
	if code != 2 {
		t.Fatalf("bad config: exit %d", code)
	}
	for _, want := range []string{
		bad + `:5:5: programs.web.stoptme: unknown key; did you mean "stoptime"?`,
		bad + `:6:17: programs.web.stopsignal: unknown signal "SIGFOO"`,
		bad + `:7:3: programs.api.cmd: missing key`,
		bad + `:8:15: programs.api.numprocs:`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	// The master refuses the same file with exit code 2 and starts nothing.
	out, code = runBinary(t, "-c", bad, "--no-shell")
	if code != 2 || !strings.Contains(out, "SIGFOO") {
		t.Fatalf("master on a bad config: %d %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); err == nil {
		t.Fatalf("master created its rundir for a bad config")
	}
}

func TestSignalsReachTheGroup(t *testing.T) {
	m := startMaster(t, `
programs:
  trap:
    cmd: "/bin/sh -c 'trap \"echo got-usr1 >> seen\" USR1; while :; do sleep 0.05; done'"
    starttime: 0
`)
	m.waitState("trap", "RUNNING", nil)
	if out, code := m.ctl("signal", "SIGUSR1", "trap"); code != 0 {
		t.Fatalf("signal: %q", out)
	}
	waitFor(t, 5e9, "the trap to run", func() bool {
		b, _ := os.ReadFile(filepath.Join(m.dir, "seen"))
		return strings.Contains(string(b), "got-usr1")
	})

}

// Issue 11, section 3: stop all, start all and group operations act only
// on the processes that need it, as supervisorctl's group calls do; a
// process named alone still gets its error.
func TestCtlGroupOpsSkipWhatNeedsNothing(t *testing.T) {
	m := startMaster(t, twoPrograms)
	m.waitState("web:web_00", "RUNNING", nil)
	m.waitState("web:web_01", "RUNNING", nil)
	m.ctlSteps(t.Fatalf, []ctlStep{
		// idle never started: stop all leaves it alone.
		{[]string{"stop", "all"}, "web:web_00: stopped\nweb:web_01: stopped\n", 0},
		{[]string{"stop", "all"}, "", 0},
		{[]string{"stop", "web:*"}, "", 0},
		{[]string{"start", "web:web_01"}, "web:web_01: started\n", 0},
		{[]string{"start", "all"}, "web:web_00: started\nidle: started\n", 0},
		{[]string{"start", "all"}, "", 0},
		{[]string{"start", "web"}, "", 0},
		{[]string{"start", "idle"}, "idle: ERROR (already started)\n", 1},
		{[]string{"stop", "web:web_00"}, "web:web_00: stopped\n", 0},
		{[]string{"signal", "CONT", "web"}, "web:web_01: signalled\n", 0},
		{[]string{"signal", "CONT", "web:web_00"}, "web:web_00: ERROR (not running)\n", 1},
		{[]string{"stop", "web", "idle"}, "web:web_01: stopped\nidle: stopped\n", 0},
		{[]string{"stop", "idle"}, "idle: ERROR (not running)\n", 1},
		{[]string{"restart", "all"}, "web:web_00: started\nweb:web_01: started\nidle: started\n", 0},
		{[]string{"remove", "idle"}, "ERROR (still running): idle\n", 1},
		{[]string{"stop", "idle"}, "idle: stopped\n", 0},
		{[]string{"remove", "idle"}, "idle: removed\n", 0},
		{[]string{"status", "idle"}, "ERROR (no such process): idle\n", 1},
		{[]string{"add", "idle"}, "idle: added\n", 0},
		{[]string{"add", "idle"}, "ERROR (already added): idle\n", 1},
	})
}

// ctlStep is one ctl command and its expected output and exit code.
type ctlStep struct {
	args []string
	out  string
	code int
}

// ctlSteps runs steps in order and reports each that differs by report.
func (m *tmaster) ctlSteps(report func(string, ...any), steps []ctlStep) {
	m.t.Helper()
	for _, s := range steps {
		out, code := m.ctl(s.args...)
		if out != s.out || code != s.code {
			report("ctl %v: %d %q, want %d %q", s.args, code, out, s.code, s.out)
		}
	}
}
