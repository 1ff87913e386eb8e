package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rewrite replaces the master's config file.
func (m *tmaster) rewrite(yaml string) {
	m.t.Helper()
	yaml = strings.ReplaceAll(yaml, "{{DIR}}", m.dir)
	if err := os.WriteFile(m.cfg, []byte(yaml), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

func (m *tmaster) pids(names ...string) map[string]int {
	m.t.Helper()
	pids := map[string]int{}
	for _, n := range names {
		pids[n] = m.waitState(n, "RUNNING", nil).Pid
	}
	return pids
}

func (m *tmaster) reload() string {
	m.t.Helper()
	out, code := m.ctl("reload")
	if code != 0 {
		m.t.Fatalf("reload: %d %q", code, out)
	}
	return out
}

const reloadBase = `
programs:
  keep:
    cmd: sleep 1000
    starttime: 0
  envy:
    cmd: "/bin/sh -c 'echo $COLOR >> colors; exec sleep 1000'"
    env: {COLOR: red}
    starttime: 0
  pool:
    cmd: sleep 1000
    numprocs: 2
    starttime: 0
`

func TestReloadKeepsUnchangedAndAppliesChanges(t *testing.T) {
	m := startMaster(t, reloadBase)
	before := m.pids("keep", "envy", "pool:pool_00", "pool:pool_01")
	out, _ := m.ctl("reread")
	if out != "No config updates.\n" {
		t.Fatalf("reread: %q", out)
	}

	m.rewrite(strings.Replace(strings.Replace(reloadBase, "COLOR: red", "COLOR: blue", 1), "numprocs: 2", "numprocs: 4", 1))
	out, _ = m.ctl("reread")
	if out != "envy: changed (env)\npool: numprocs 2 -> 4\n" {
		t.Fatalf("reread: %q", out)
	}
	if got := m.pids("keep", "envy"); got["envy"] != before["envy"] {
		t.Fatalf("reread changed something")
	}
	if out := m.reload(); out != "envy: changed (env)\npool: numprocs 2 -> 4\n" {
		t.Fatalf("reload: %q", out)
	}
	after := m.pids("keep", "envy", "pool:pool_00", "pool:pool_01", "pool:pool_02", "pool:pool_03")
	for _, n := range []string{"keep", "pool:pool_00", "pool:pool_01"} {
		if after[n] != before[n] {
			t.Errorf("%s: pid %d -> %d, must be untouched", n, before[n], after[n])
		}
	}
	if after["envy"] == before["envy"] || alive(before["envy"]) {
		t.Errorf("envy not restarted")
	}
	waitLines(t, filepath.Join(m.dir, "colors"), 2)
	if b, _ := os.ReadFile(filepath.Join(m.dir, "colors")); string(b) != "red\nblue\n" {
		t.Errorf("colors %q", b)
	}
	if in := m.status("keep"); in.Restarts != 0 {
		t.Errorf("keep restarted: %+v", in)
	}

	// 4 -> 2 stops the last two only.
	m.rewrite(strings.Replace(reloadBase, "COLOR: red", "COLOR: blue", 1))
	m.reload()
	now := m.pids("pool:pool_00", "pool:pool_01")
	if now["pool:pool_00"] != before["pool:pool_00"] || now["pool:pool_01"] != before["pool:pool_01"] {
		t.Errorf("first two pool processes touched")
	}
	for _, n := range []string{"pool:pool_02", "pool:pool_03"} {
		if alive(after[n]) {
			t.Errorf("%s (pid %d) still alive", n, after[n])
		}
		if out, code := m.ctl("status", n); code != 1 || !strings.Contains(out, "no such process") {
			t.Errorf("%s still listed: %q", n, out)
		}
	}
	if !strings.Contains(m.log(), "reload: pool: numprocs 4 -> 2") {
		t.Errorf("reload not logged")
	}
}

// numprocs 1 -> 2 renames `pool` to `pool:pool_00` and keeps its pid.
func TestReloadRenamesOnNumprocs(t *testing.T) {
	one := "programs:\n  pool:\n    cmd: sleep 1000\n    starttime: 0\n"
	m := startMaster(t, one)
	pid := m.pids("pool")["pool"]
	m.rewrite(one + "    numprocs: 2\n")
	m.reload()
	got := m.pids("pool:pool_00", "pool:pool_01")
	if got["pool:pool_00"] != pid {
		t.Fatalf("pool:pool_00 pid %d, want %d", got["pool:pool_00"], pid)
	}
	m.rewrite(one)
	m.reload()
	if m.pids("pool")["pool"] != pid || alive(got["pool:pool_01"]) {
		t.Fatalf("back to 1: pid changed or pool_01 alive")
	}
}

func TestReloadWithErrorsChangesNothing(t *testing.T) {
	m := startMaster(t, reloadBase)
	before := m.pids("keep", "envy", "pool:pool_00", "pool:pool_01")
	bad := strings.Replace(reloadBase, "numprocs: 2", "numprocs: 3\n    stopsignal: SIGFOO", 1)
	m.rewrite(strings.Replace(bad, "keep:", "kept:", 1))
	out, code := m.ctl("reload")
	if code != 1 || !strings.Contains(out, m.cfg+`:13:17: programs.pool.stopsignal: unknown signal "SIGFOO"`) ||
		!strings.Contains(out, "nothing changed") {
		t.Fatalf("reload: %d %q", code, out)
	}
	syscall.Kill(m.cmd.Process.Pid, syscall.SIGHUP)
	waitFor(t, 5*time.Second, "the SIGHUP reload to fail", func() bool {
		return strings.Count(m.log(), "reload failed, nothing changed") >= 2
	})
	for n, pid := range before {
		if in := m.status(n); in.Pid != pid || in.State != "RUNNING" {
			t.Errorf("%s: %+v, was pid %d", n, in, pid)
		}
	}
	if out, _ := m.ctl("status", "pool:pool_02"); !strings.Contains(out, "no such process") {
		t.Errorf("a process was added: %q", out)
	}
	// A later valid reload works.
	m.rewrite(strings.Replace(reloadBase, "numprocs: 2", "numprocs: 3", 1))
	if out := m.reload(); out != "pool: numprocs 2 -> 3\n" {
		t.Fatalf("valid reload: %q", out)
	}
	m.pids("pool:pool_02")
}

// A removed program is stopped with its OLD settings: its stoptime, then
// SIGKILL.
func TestReloadRemovesWithOldStopSettings(t *testing.T) {
	m := startMaster(t, `
programs:
  keep:
    cmd: sleep 1000
    starttime: 0
  stubborn:
    cmd: "/bin/sh -c 'trap \"\" TERM; echo $$ >> ready; while :; do sleep 0.1; done'"
    starttime: 0
    stoptime: 1
`)
	pids := m.pids("keep", "stubborn")
	waitLines(t, filepath.Join(m.dir, "ready"), 1)
	m.rewrite("programs:\n  keep:\n    cmd: sleep 1000\n    starttime: 0\n")
	begin := time.Now()
	if out := m.reload(); out != "stubborn: removed\n" {
		t.Fatalf("reload: %q", out)
	}
	if took := time.Since(begin); took < time.Second {
		t.Fatalf("reload returned after %s, before the old stoptime", took)
	}
	if alive(pids["stubborn"]) {
		t.Fatalf("stubborn alive")
	}
	if !strings.Contains(m.log(), "killed with SIGKILL after stoptime 1s") {
		t.Fatalf("no kill in the log")
	}
	if m.pids("keep")["keep"] != pids["keep"] {
		t.Fatalf("keep touched")
	}
	out, _ := m.ctl("status")
	if strings.Contains(out, "stubborn") {
		t.Fatalf("stubborn still listed:\n%s", out)
	}
}

// A policy change applies in place: same pid, and the next stop uses the
// new stopsignal.
func TestReloadPolicyInPlace(t *testing.T) {
	base := `
programs:
  trap:
    cmd: "/bin/sh -c 'trap \"echo usr1 >> got; exit 0\" USR1; echo $$ >> ready; while :; do sleep 0.05; done'"
    starttime: 0
`
	m := startMaster(t, base)
	pid := m.pids("trap")["trap"]
	waitLines(t, filepath.Join(m.dir, "ready"), 1)
	m.rewrite(base + "    stopsignal: USR1\n    stoptime: 7\n")
	if out := m.reload(); out != "trap: policy changed (stopsignal, stoptime)\n" {
		t.Fatalf("reload: %q", out)
	}
	if m.status("trap").Pid != pid {
		t.Fatalf("pid changed on a policy change")
	}
	if out, _ := m.ctl("stop", "trap"); out != "trap: stopped\n" {
		t.Fatalf("stop: %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(m.dir, "got")); string(b) != "usr1\n" {
		t.Fatalf("the job got %q, not USR1", b)
	}
}

// A program stuck in BACKOFF whose cmd is fixed ends up RUNNING the new one.
func TestReloadDuringBackoff(t *testing.T) {
	base := "programs:\n  flaky:\n    starttime: 0.2\n    startretries: 50\n"
	m := startMaster(t, base+"    cmd: /bin/false\n")
	m.waitState("flaky", "BACKOFF", nil)
	m.rewrite(base + "    cmd: sleep 1000\n")
	m.reload()
	in := m.waitState("flaky", "RUNNING", nil)
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", in.Pid))
	if string(b) != "sleep\x001000\x00" {
		t.Fatalf("running %q", b)
	}
}

// SIGHUPs in a burst fold into few reloads and touch nothing unchanged.
func TestSighupBurst(t *testing.T) {
	m := startMaster(t, reloadBase)
	before := m.pids("keep", "envy", "pool:pool_00", "pool:pool_01")
	for i := 0; i < 100; i++ {
		syscall.Kill(m.cmd.Process.Pid, syscall.SIGHUP)
	}
	waitFor(t, 5*time.Second, "a reload", func() bool { return strings.Contains(m.log(), "reload: no changes") })
	m.rewrite(strings.Replace(reloadBase, "numprocs: 2", "numprocs: 3", 1))
	syscall.Kill(m.cmd.Process.Pid, syscall.SIGHUP)
	m.waitState("pool:pool_02", "RUNNING", nil)
	for n, pid := range before {
		if in := m.status(n); in.Pid != pid {
			t.Errorf("%s: pid %d -> %d", n, pid, in.Pid)
		}
	}
	if n := strings.Count(m.log(), "received SIGHUP"); n < 2 {
		t.Errorf("%d SIGHUPs logged", n)
	}
}

func TestReloadGlobalSection(t *testing.T) {
	m := startMaster(t, reloadBase)
	m.pids("keep")
	m.rewrite("taskmaster:\n  socket: other.sock\n" + reloadBase)
	out, code := runBinary(t, "ctl", "-s", filepath.Join(m.dir, "run", "taskmaster.sock"), "reload")
	if code != 1 || !strings.Contains(out, "taskmaster.socket changed: restart taskmaster") {
		t.Fatalf("socket change: %d %q", code, out)
	}
	m.rewrite("taskmaster:\n  logfile: new.log\n" + strings.Replace(reloadBase, "numprocs: 2", "numprocs: 3", 1))
	if out := m.reload(); out != "taskmaster: changed (logfile)\npool: numprocs 2 -> 3\n" {
		t.Fatalf("reload: %q", out)
	}
	m.pids("pool:pool_02")
	waitFor(t, 5*time.Second, "events in the new log", func() bool {
		b, _ := os.ReadFile(filepath.Join(m.dir, "new.log"))
		return strings.Contains(string(b), "pool:pool_02")
	})
	if strings.Contains(m.log(), "pool:pool_02") {
		t.Fatalf("events still go to the old log")
	}
}

// After a reshape, a process runs again if it ran before or autostart says
// so; an added program starts if autostart.
func TestReloadStartRules(t *testing.T) {
	base := `
programs:
  idle:
    cmd: sleep 1000
    autostart: false
  manual:
    cmd: sleep 1000
    autostart: false
    starttime: 0
  broken:
    cmd: /nope/missing
    startretries: 0
`
	m := startMaster(t, base)
	m.ctl("start", "manual")
	m.waitState("manual", "RUNNING", nil)
	m.waitState("broken", "FATAL", nil)
	next := strings.ReplaceAll(base, "cmd: sleep 1000", "cmd: sleep 999")
	next = strings.Replace(next, "/nope/missing", "sleep 1000", 1)
	next += "  fresh:\n    cmd: sleep 1000\n  lazy:\n    cmd: sleep 1000\n    autostart: false\n"
	m.rewrite(next)
	out := m.reload()
	want := "idle: changed (cmd)\nmanual: changed (cmd)\nbroken: changed (cmd)\nfresh: added\nlazy: added\n"
	if out != want {
		t.Fatalf("reload: %q, want %q", out, want)
	}
	m.waitState("manual", "RUNNING", func(in procInfo) bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", in.Pid))
		return string(b) == "sleep\x00999\x00"
	})
	m.waitState("broken", "RUNNING", nil)
	m.waitState("fresh", "RUNNING", nil)
	for _, n := range []string{"idle", "lazy"} {
		if in := m.status(n); in.State != "STOPPED" {
			t.Errorf("%s: %s, want STOPPED", n, in.State)
		}
	}
}
