package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of supervisor's XML-RPC face with the real clients:
// Debian's supervisorctl, Python's xmlrpc.client, Ansible's
// community.general.supervisorctl. Where an expected text is pinned, it
// is what supervisorctl 4.2.5 prints against Debian's supervisord on the
// same programs (checked by hand once).

// needTool finds a client program; it fails in CI (.ci/run installs it)
// and skips loudly elsewhere.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI: %v", name, err)
		}
		t.Skipf("SKIP: %s is missing (apt-get install %s); the real-client tests need it", name, pkg)
	}
	return bin
}

// sctl runs supervisorctl with the connection arguments conn.
type sctl struct {
	t    *testing.T
	bin  string
	conn []string
}

func (m *tmaster) supervisorctl(conn ...string) sctl {
	m.t.Helper()
	bin := needTool(m.t, "supervisorctl", "supervisor")
	if len(conn) == 0 {
		conn = []string{"-s", "unix://" + m.rpcSock()}
	}
	return sctl{m.t, bin, conn}
}

// supervisorctlConf writes a file for supervisorctl -c: a
// [supervisorctl] section naming the master's socket.
func (m *tmaster) supervisorctlConf() string {
	m.t.Helper()
	conf := filepath.Join(m.dir, "supervisorctl.conf")
	if err := os.WriteFile(conf, []byte("[supervisorctl]\nserverurl=unix://"+m.rpcSock()+"\n"), 0o600); err != nil {
		m.t.Fatal(err)
	}
	return conf
}

func (m *tmaster) rpcSock() string { return filepath.Join(m.dir, "run", "supervisor.sock") }

func (s sctl) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.bin, append(slices.Clone(s.conn), args...)...)
	cmd.Dir = s.t.TempDir() // no supervisord.conf found by accident
	return cmd
}

func (s sctl) run(args ...string) (string, int) {
	s.t.Helper()
	return s.runInput("", args...)
}

func (s sctl) runInput(stdin string, args ...string) (string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := s.command(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		s.t.Fatalf("supervisorctl %v: %v\n%s", args, err, out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// expect runs args and checks the exact output and exit code.
func (s sctl) expect(want string, code int, args ...string) {
	s.t.Helper()
	out, c := s.run(args...)
	if out != want || c != code {
		s.t.Errorf("supervisorctl %s: exit %d, output\n%q\nwant exit %d, output\n%q", strings.Join(args, " "), c, out, code, want)
	}
}

// expectLines is expect for results whose order depends on which process
// finished first (supervisord's too).
func (s sctl) expectLines(want []string, code int, args ...string) {
	s.t.Helper()
	out, c := s.run(args...)
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) || c != code {
		s.t.Errorf("supervisorctl %s: exit %d, output\n%s\nwant exit %d, lines %q", strings.Join(args, " "), c, out, code, want)
	}
}

// expectMatch checks each output line against a regexp.
func (s sctl) expectMatch(want []string, code int, args ...string) {
	s.t.Helper()
	out, c := s.run(args...)
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	ok := len(got) == len(want) && c == code
	for i := 0; ok && i < len(want); i++ {
		ok = regexp.MustCompile(want[i]).MatchString(got[i])
	}
	if !ok {
		s.t.Errorf("supervisorctl %s: exit %d, output\n%s\nwant exit %d, lines matching %q", strings.Join(args, " "), c, out, code, want)
	}
}

// follow runs a following command (tail -f, maintail -f), waits until
// its output holds what ok wants, and kills it.
func (s sctl) follow(what string, ok func(string) bool, args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := s.command(ctx, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	defer cmd.Wait()
	defer cancel()
	waitFor(s.t, 20*time.Second, what+" from supervisorctl "+strings.Join(args, " ")+": "+out.String(), func() bool {
		return ok(out.String())
	})
	return out.String()
}

// supervisorConfig: web (two processes that print a numbered line ten
// times a second and answer USR1 and HUP), cat (a tty job), once (a job
// that ends at once, not started by default).
const supervisorConfig = `
programs:
  web:
    cmd: "/bin/sh -c 'trap \"echo got-usr1\" USR1; trap \"echo got-hup\" HUP; i=0; while :; do i=$((i+1)); echo line$i; sleep 0.1; done'"
    numprocs: 2
    starttime: 0
    stdout: web.log
  cat:
    cmd: cat
    tty: true
    starttime: 0
    stdout: cat.log
  once:
    cmd: "true"
    autostart: false
    autorestart: never
    starttime: 0
`

const statusRunning = ` +RUNNING +pid \d+, uptime \d+:\d\d:\d\d$`

// TestSupervisorctlEveryCommand drives a real master with supervisorctl's
// every command but reload and shutdown (TestSupervisorctlReload...),
// once through -s unix://SOCK and once through -c FILE.
func TestSupervisorctlEveryCommand(t *testing.T) {
	m := startMaster(t, supervisorConfig)
	m.waitState("web:web_00", "RUNNING", nil)
	m.waitState("web:web_01", "RUNNING", nil)
	m.waitState("cat", "RUNNING", nil)
	conf := m.supervisorctlConf()
	s := m.supervisorctl()

	// help lists the commands this test covers; a supervisorctl with
	// more fails here, to be covered.
	out, _ := s.run("help")
	var listed []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "=") && !strings.Contains(l, "(") {
			listed = append(listed, strings.Fields(l)...)
		}
	}
	slices.Sort(listed)
	covered := []string{"add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove",
		"reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail", "update", "version"}
	if !slices.Equal(listed, covered) {
		t.Errorf("help lists %q, the test covers %q", listed, covered)
	}

	for _, via := range []struct {
		name string
		s    sctl
	}{{"-s", s}, {"-c", m.supervisorctl("-c", conf)}} {
		t.Run(via.name, func(t *testing.T) {
			s := via.s
			s.t = t
			supervisorctlProcessCommands(t, m, s)
		})
	}
	if t.Failed() {
		return
	}
	t.Run("config", func(t *testing.T) {
		s := m.supervisorctl("-c", conf)
		s.t = t
		supervisorctlConfigCommands(t, m, s)
	})
}

func supervisorctlProcessCommands(t *testing.T, m *tmaster, s sctl) {
	s.expectMatch([]string{`^cat` + statusRunning, `^once +(STOPPED +Not started|EXITED +.*)$`,
		`^web:web_00` + statusRunning, `^web:web_01` + statusRunning}, 3, "status")
	s.expectMatch([]string{`^web:web_00` + statusRunning, `^web:web_01` + statusRunning}, 0, "status", "web:*")
	s.expect("nope: ERROR (no such process)\n", 4, "status", "nope")
	s.expect("once: ERROR (not running)\n", 0, "stop", "once")
	s.expect("nope: ERROR (no such process)\n", 1, "start", "nope")
	s.expect("nope: ERROR (no such group)\n", 2, "start", "nope:*")
	// A group's name that is no process's: supervisord answers the same.
	s.expect("web: ERROR (no such process)\n", 1, "stop", "web")

	// A job that ends at once with starttime 0 was started, as
	// supervisord says of startsecs=0.
	s.expect("once: started\n", 0, "start", "once")
	m.waitState("once", "EXITED", nil)

	s.expectLines([]string{"cat: stopped", "web:web_00: stopped", "web:web_01: stopped"}, 0, "stop", "all")
	for _, n := range []string{"cat", "web:web_00", "web:web_01"} {
		if st := m.status(n).State; st != "STOPPED" {
			t.Errorf("%s %s after stop all", n, st)
		}
	}
	s.expect("", 0, "stop", "web:*") // nothing needed it
	s.expectLines([]string{"web:web_00: started", "web:web_01: started"}, 0, "start", "web:*")
	s.expect("web:web_00: ERROR (already started)\n", 0, "start", "web:web_00")
	s.expectLines([]string{"cat: started", "once: started"}, 0, "start", "all")
	m.waitState("once", "EXITED", nil)
	before := m.status("web:web_00").Pid
	s.expect("web:web_00: stopped\nweb:web_00: started\n", 0, "restart", "web:web_00")
	if after := m.status("web:web_00").Pid; after == before {
		t.Errorf("restart web:web_00 kept pid %d", after)
	}
	s.expectLines([]string{"web:web_00: stopped", "web:web_01: stopped", "web:web_00: started", "web:web_01: started"},
		0, "restart", "web:*")
	s.expectLines([]string{"cat: stopped", "web:web_00: stopped", "web:web_01: stopped",
		"cat: started", "once: started", "web:web_00: started", "web:web_01: started"}, 0, "restart", "all")
	m.waitState("once", "EXITED", nil)

	// signal reaches the job.
	log := filepath.Join(m.dir, "web.log")
	s.expectLines([]string{"web:web_00: signalled", "web:web_01: signalled"}, 0, "signal", "USR1", "web:*")
	waitFor(t, 10*time.Second, "got-usr1 in web's log", func() bool {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), "got-usr1")
	})
	s.expect("cat: signalled\n", 0, "signal", "CONT", "cat")
	s.expectLines([]string{"cat: signalled", "web:web_00: signalled", "web:web_01: signalled"}, 0, "signal", "CONT", "all")
	s.expect("once: ERROR (not running)\n", 7, "signal", "HUP", "once")
	s.expect("cat: ERROR (bad signal name)\n", 1, "signal", "BOGUS", "cat")

	s.expect(strconv.Itoa(m.cmd.Process.Pid)+"\n", 0, "pid")
	s.expect(strconv.Itoa(m.status("cat").Pid)+"\n", 0, "pid", "cat")
	s.expect("0\n", 7, "pid", "once")
	s.expectMatch([]string{`^[1-9]\d*$`, `^0$`, `^[1-9]\d*$`, `^[1-9]\d*$`}, 0, "pid", "all")

	// tail: the last bytes of the log (supervisorctl adds a newline);
	// -N bytes; -f follows.
	out, code := s.run("tail", "web:web_00")
	if code != 0 || !regexp.MustCompile(`line\d+\n\n$`).MatchString(out) {
		t.Errorf("tail web:web_00: %d %q", code, out)
	}
	out, code = s.run("tail", "-20", "web:web_00")
	if code != 0 || len(out) > 21 || !strings.Contains(out, "line") {
		t.Errorf("tail -20 web:web_00: %d %q", code, out)
	}
	s.expect("nope: ERROR (no such process name)\n", 1, "tail", "nope")
	s.expect("once: ERROR (no log file)\n", 1, "tail", "once") // no stdout file: supervisor's stdout_logfile=NONE
	s.follow("three lines", func(o string) bool {
		return strings.HasPrefix(o, "==> Press Ctrl-C to exit <==\n") && strings.Count(o, "\nline") >= 3
	}, "tail", "-f", "web:web_00")

	// maintail: the event log; -f follows it as events happen.
	out, code = s.run("maintail")
	if code != 0 || !strings.Contains(out, "web:web_00") {
		t.Errorf("maintail: %d %q", code, out)
	}
	mark := -1 // the output's length when once was started
	s.follow("once's start in the event log", func(o string) bool {
		if mark < 0 && strings.Contains(o, "==> Press Ctrl-C to exit <==") {
			mark = len(o)
			s.run("start", "once")
		}
		return mark >= 0 && strings.Contains(o[mark:], "once")
	}, "maintail", "-f")
	m.waitState("once", "EXITED", nil)

	// clear truncates a process's log; "web:*" is no process for
	// clearProcessLogs, and supervisorctl names it web:None, as it does
	// against supervisord.
	s.expect("web:None: ERROR (no such process)\n", 1, "clear", "web:*")
	s.expect("web:web_00: cleared\nnope: ERROR (no such process)\n", 1, "clear", "web:web_00", "nope")
	s.expectLines([]string{"cat: cleared", "once: cleared", "web:web_00: cleared", "web:web_01: cleared"}, 0, "clear", "all")

	s.expectMatch([]string{`^cat +in use +auto +999:999$`, `^once +in use +manual +999:999$`,
		`^web:web_00 +in use +auto +999:999$`, `^web:web_01 +in use +auto +999:999$`}, 0, "avail")
	s.expect("4.2.5-taskmaster\n", 0, "version")

	// fg: supervisorctl tails the job's log and sends each line it reads
	// with sendProcessStdin, which a tty job reads from its terminal;
	// at EOF it leaves.
	out, _ = s.runInput("hello-from-fg\n", "fg", "cat")
	if !strings.Contains(out, "==> Press Ctrl-C to exit <==\n") || strings.Contains(out, "ERROR") ||
		!strings.Contains(out, "Exiting foreground\n") {
		t.Errorf("fg cat: %q", out)
	}
	waitFor(t, 5*time.Second, "cat to read what fg sent", func() bool {
		b, _ := os.ReadFile(filepath.Join(m.dir, "cat.log"))
		return strings.Count(string(b), "hello-from-fg") >= 2 // the terminal's echo, then cat's
	})
	s.expect("ERROR: process not running\n", 1, "fg", "once")
	s.expect("ERROR: bad process name supplied\n", 1, "fg", "nope")
}

// supervisorctlConfigCommands: reread, update, add and remove after the
// file changes (a program added, one changed, one removed).
func supervisorctlConfigCommands(t *testing.T, m *tmaster, s sctl) {
	s.expect("No config updates to processes\n", 0, "reread")
	s.expect("", 0, "update")
	m.rewrite(strings.Replace(strings.Replace(supervisorConfig, `cmd: "true"`, `cmd: "/bin/true"`, 1),
		"  cat:\n    cmd: cat\n    tty: true\n", "  extra:\n    cmd: sleep 1000\n", 1))
	s.expectLines([]string{"cat: disappeared", "extra: available", "once: changed"}, 0, "reread")
	s.expectLines([]string{"cat: stopped", "cat: removed process group", "once: stopped", "once: updated process group",
		"extra: added process group"}, 0, "update")
	m.waitState("extra", "RUNNING", nil)
	s.expectMatch([]string{`^extra` + statusRunning, `^once +STOPPED +Not started$`,
		`^web:web_00` + statusRunning, `^web:web_01` + statusRunning}, 3, "status")
	s.expect("No config updates to processes\n", 0, "reread")

	s.expect("ERROR: process/group still running: extra\n", 1, "remove", "extra")
	s.expect("extra: stopped\n", 0, "stop", "extra")
	s.expect("extra: removed process group\n", 0, "remove", "extra")
	s.expectMatch([]string{`^extra +avail +auto +999:999$`, `^once +in use +manual +999:999$`,
		`^web:web_00 +in use +auto +999:999$`, `^web:web_01 +in use +auto +999:999$`}, 0, "avail")
	s.expect("nope: ERROR (no such process)\n", 4, "status", "nope")
	s.expect("extra: available\n", 0, "reread")
	s.expect("extra: added process group\n", 0, "add", "extra")
	m.waitState("extra", "RUNNING", nil)
	s.expect("ERROR: process group already active\n", 0, "add", "extra")
	s.expect("ERROR: no such process/group: nope\n", 1, "add", "nope")
	s.expect("ERROR: no such process/group: nope\n", 1, "remove", "nope")
}

// TestSupervisorctlReloadAndShutdown: reload is supervisord's restart
// (everything stopped, the file read again, autostart programs started);
// shutdown stops the master.
func TestSupervisorctlReloadAndShutdown(t *testing.T) {
	m := startMaster(t, supervisorConfig)
	s := m.supervisorctl()
	before := m.pids("web:web_00", "cat")
	s.expect("once: started\n", 0, "start", "once")
	m.waitState("once", "EXITED", nil)
	m.rewrite(supervisorConfig + "  extra:\n    cmd: sleep 1000\n    starttime: 0\n")

	s.expect("Restarted supervisord\n", 0, "reload")
	m.waitState("extra", "RUNNING", nil) // only the re-read file has it
	after := m.pids("web:web_00", "cat", "extra")
	for n, pid := range before {
		if after[n] == pid {
			t.Errorf("reload kept %s's pid %d", n, pid)
		}
	}
	// Every program is made anew, as supervisord does: once, not
	// autostart, is not started again and keeps nothing of before.
	s.expectMatch([]string{`^cat` + statusRunning, `^extra` + statusRunning, `^once +STOPPED +Not started$`,
		`^web:web_00` + statusRunning, `^web:web_01` + statusRunning}, 3, "status")

	// A file with errors: nothing is half-applied, the programs of before
	// start again, and the event log says why.
	m.rewrite(supervisorConfig + "  broken: [\n")
	s.expect("Restarted supervisord\n", 0, "reload")
	waitFor(t, 20*time.Second, "the failed restart's log line", func() bool {
		return strings.Contains(m.log(), "the programs of before start again")
	})
	again := m.pids("web:web_00", "cat", "extra")
	for n, pid := range after {
		if again[n] == pid {
			t.Errorf("reload of a broken file did not restart %s (pid %d)", n, pid)
		}
	}

	s.expect("Shut down\n", 0, "shutdown")
	if code := m.waitExit(30 * time.Second); code != 0 {
		t.Errorf("master exited %d after shutdown", code)
	}
	for n, pid := range after {
		if alive(pid) {
			t.Errorf("%s (pid %d) outlived the shutdown", n, pid)
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// inetMaster starts supervisorConfig with taskmaster.inet on a free
// port, user "fleet", the password given in supervisor's {SHA} form.
func inetMaster(t *testing.T) (m *tmaster, url string) {
	t.Helper()
	port := freePort(t)
	// sha1("s3cret")
	m = startMaster(t, "taskmaster:\n  inet:\n    listen: 127.0.0.1:"+strconv.Itoa(port)+
		"\n    username: fleet\n    password: \"{SHA}fef341f85d87439e7d91a2d465b9871ef66b5e98\"\n"+supervisorConfig)
	return m, "http://127.0.0.1:" + strconv.Itoa(port)
}

// TestSupervisorctlOverTCP: supervisorctl with -u/-p over
// taskmaster.inet; a wrong password is refused and logged.
func TestSupervisorctlOverTCP(t *testing.T) {
	m, url := inetMaster(t)
	m.waitState("cat", "RUNNING", nil)
	m.supervisorctl("-s", url, "-u", "fleet", "-p", "s3cret").expectMatch([]string{`^cat` + statusRunning,
		`^once +STOPPED +Not started$`, `^web:web_00` + statusRunning, `^web:web_01` + statusRunning}, 3, "status")
	// tail -f reads /logtail over HTTP with the same credentials.
	m.supervisorctl("-s", url, "-u", "fleet", "-p", "s3cret").follow("three lines", func(o string) bool {
		return strings.Count(o, "\nline") >= 3
	}, "tail", "-f", "web:web_00")
	// supervisord's own answer: the same two lines and exit 1.
	out, code := m.supervisorctl("-s", url, "-u", "fleet", "-p", "wrong").run("status")
	if code != 1 || !strings.HasPrefix(out, "Server requires authentication\n") || !strings.Contains(out, "401 Unauthorized") {
		t.Errorf("status with a wrong password: %d %q", code, out)
	}
	waitFor(t, 10*time.Second, "the refusal in the event log", func() bool {
		return strings.Contains(m.log(), `xmlrpc: refused user "fleet" from 127.0.0.1:`)
	})
}

// dashboardScript calls the master as Cesi and Multivisor do (over TCP
// with Basic auth), then as Telegraf's supervisor input does, asserting
// the shapes they read; it prints "ok" at the end.
const dashboardScript = `
import re, sys, time, xmlrpc.client as xc
s = xc.ServerProxy(sys.argv[1]).supervisor
sysp = xc.ServerProxy(sys.argv[1]).system

def fault(code, f, *a):
    try:
        f(*a)
    except xc.Fault as e:
        assert e.faultCode == code, (f, a, e)
        return e.faultString
    raise AssertionError("no fault %d from %s%r" % (code, f, a))

methods = sysp.listMethods()
for m in ["supervisor.getAllProcessInfo", "supervisor.getProcessInfo", "supervisor.startProcess",
          "supervisor.stopProcess", "supervisor.tailProcessStdoutLog", "supervisor.getState",
          "supervisor.getIdentification", "system.listMethods"]:
    assert m in methods, m

fields = {"name": str, "group": str, "start": int, "stop": int, "now": int, "state": int,
          "statename": str, "spawnerr": str, "exitstatus": int, "logfile": str,
          "stdout_logfile": str, "stderr_logfile": str, "pid": int, "description": str}
infos = s.getAllProcessInfo()
assert [(i["group"], i["name"]) for i in infos] == [("cat", "cat"), ("once", "once"), ("web", "web_00"), ("web", "web_01")], infos
for i in infos:
    for k, t in fields.items():
        assert type(i[k]) is t, (k, i)
    assert i["statename"] == {0: "STOPPED", 20: "RUNNING"}[i["state"]], i

w = s.getProcessInfo("web:web_00")
assert w["state"] == 20 and w["pid"] > 0 and w["stdout_logfile"].endswith("web.log"), w
assert re.fullmatch(r"pid %d, uptime \d+:\d\d:\d\d" % w["pid"], w["description"]), w
assert fault(10, s.getProcessInfo, "nope") == "BAD_NAME: nope"

assert s.stopProcess("web:web_00") is True
w = s.getProcessInfo("web:web_00")
assert w["state"] == 0 and w["pid"] == 0 and w["stop"] >= w["start"] > 0, w
fault(70, s.stopProcess, "web:web_00")
assert s.startProcess("web:web_00", False) is True
deadline = time.time() + 10
while s.getProcessInfo("web:web_00")["state"] != 20:
    assert time.time() < deadline, "web:web_00 never RUNNING"
    time.sleep(0.05)
fault(60, s.startProcess, "web:web_00", False)
fault(10, s.startProcess, "nope", False)

deadline = time.time() + 10
while True:
    data, offset, overflow = s.tailProcessStdoutLog("web:web_01", 0, 500)
    if "line" in data:
        break
    assert time.time() < deadline, "no output in web's log"
    time.sleep(0.05)
assert type(data) is str and type(offset) is int and type(overflow) is bool, (data, offset, overflow)
assert len(data) <= 500 and offset >= len(data), (len(data), offset)

# Telegraf
assert s.getState() == {"statecode": 1, "statename": "RUNNING"}, s.getState()
assert s.getIdentification() == "supervisor", s.getIdentification()
assert len(s.getAllProcessInfo()) == 4
print("ok")
`

// TestXMLRPCDashboardClients runs Python's stdlib xmlrpc.client as
// dashboards and monitors do.
func TestXMLRPCDashboardClients(t *testing.T) {
	py := needTool(t, "python3", "python3")
	m, url := inetMaster(t)
	m.waitState("web:web_00", "RUNNING", nil)
	m.waitState("web:web_01", "RUNNING", nil)
	m.waitState("cat", "RUNNING", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url = strings.Replace(url, "http://", "http://fleet:s3cret@", 1) + "/RPC2"
	out, err := exec.CommandContext(ctx, py, "-c", dashboardScript, url).CombinedOutput()
	if err != nil || string(out) != "ok\n" {
		t.Errorf("dashboard script: %v\n%s", err, out)
	}
}

// ansiblePlaybook: every state of community.general.supervisorctl on
// api (one process) and the web: group, each followed by the master's
// own status (taskmaster ctl status --json), in one playbook since
// ansible is slow to start.
const ansiblePlaybook = `
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
    sock: unix://{{SOCK}}
  tasks:
    - {name: stop, community.general.supervisorctl: {name: api, state: stopped, server_url: "{{sock}}"}}
    - {name: stop again, community.general.supervisorctl: {name: api, state: stopped, server_url: "{{sock}}"}}
    - {name: after stop, command: "{{CTL}} status --json"}
    - {name: start, community.general.supervisorctl: {name: api, state: started, server_url: "{{sock}}"}}
    - {name: start again, community.general.supervisorctl: {name: api, state: started, server_url: "{{sock}}"}}
    - {name: after start, command: "{{CTL}} status --json"}
    - {name: restart, community.general.supervisorctl: {name: api, state: restarted, config: "{{CONF}}"}}
    - {name: after restart, command: "{{CTL}} status --json"}
    - {name: signal, community.general.supervisorctl: {name: api, state: signalled, signal: HUP, server_url: "{{sock}}"}}
    - {name: stop group, community.general.supervisorctl: {name: "web:", state: stopped, server_url: "{{sock}}"}}
    - {name: after stop group, command: "{{CTL}} status --json"}
    - {name: stop for absent, community.general.supervisorctl: {name: api, state: stopped, server_url: "{{sock}}"}}
    - {name: absent, community.general.supervisorctl: {name: api, state: absent, server_url: "{{sock}}"}}
    - {name: absent again, community.general.supervisorctl: {name: api, state: absent, server_url: "{{sock}}"}}
    - {name: after absent, command: "{{CTL}} status --json"}
    - {name: present, community.general.supervisorctl: {name: api, state: present, server_url: "{{sock}}"}}
    - {name: present again, community.general.supervisorctl: {name: api, state: present, server_url: "{{sock}}"}}
    - {name: after present, command: "{{CTL}} status --json"}
`

// TestAnsibleSupervisorctl runs Ansible's supervisorctl module (Debian's
// ansible package) against a real master.
func TestAnsibleSupervisorctl(t *testing.T) {
	needTool(t, "supervisorctl", "supervisor")
	playbook := needTool(t, "ansible-playbook", "ansible")
	// Debian's ansible package carries the community.general collection.
	if out, err := exec.Command(needTool(t, "ansible-doc", "ansible"), "-j", "community.general.supervisorctl").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), `"community.general.supervisorctl"`) {
		if os.Getenv("CI") != "" {
			t.Fatalf("ansible has no community.general.supervisorctl in CI: %v\n%.500s", err, out)
		}
		t.Skipf("SKIP: ansible has no community.general.supervisorctl module (%v)", err)
	}
	m := startMaster(t, `
programs:
  api:
    cmd: "/bin/sh -c 'trap \"echo got-hup\" HUP; while :; do sleep 0.1; done'"
    starttime: 0
    stdout: api.log
  web:
    cmd: sleep 1000
    numprocs: 2
    starttime: 0
`)
	m.pids("api", "web:web_00", "web:web_01")
	conf := m.supervisorctlConf()
	play := filepath.Join(m.dir, "play.yaml")
	r := strings.NewReplacer("{{SOCK}}", m.rpcSock(), "{{CONF}}", conf, "{{CTL}}", binary+" ctl -c "+m.cfg)
	if err := os.WriteFile(play, []byte(r.Replace(ansiblePlaybook)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, playbook, "-i", "localhost,", play)
	tmp := t.TempDir()
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "ANSIBLE_STDOUT_CALLBACK=json", "ANSIBLE_LOCAL_TEMP="+tmp, "ANSIBLE_REMOTE_TEMP="+tmp,
		"ANSIBLE_NOCOLOR=1", "GORACE=atexit_sleep_ms=0")
	start := time.Now()
	out, err := cmd.Output()
	t.Logf("ansible-playbook took %s", time.Since(start).Round(time.Millisecond))
	var res struct {
		Plays []struct {
			Tasks []struct {
				Task  struct{ Name string }
				Hosts map[string]struct {
					Changed bool
					Failed  bool
					Msg     string
					Stdout  string
				}
			}
		}
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil || len(res.Plays) != 1 {
		t.Fatalf("ansible-playbook: %v, %v\n%s", err, jerr, out)
	}
	type result struct {
		changed, failed bool
		msg             string
		states          map[string]procInfo // after-tasks: the master's status
	}
	got := map[string]result{}
	for _, task := range res.Plays[0].Tasks {
		h := task.Hosts["localhost"]
		r := result{changed: h.Changed, failed: h.Failed, msg: h.Msg}
		if strings.HasPrefix(task.Task.Name, "after ") {
			var infos []procInfo
			if err := json.Unmarshal([]byte(h.Stdout), &infos); err != nil {
				t.Errorf("%s: %v: %q", task.Task.Name, err, h.Stdout)
			}
			r.states = map[string]procInfo{}
			for _, in := range infos {
				r.states[in.Name] = in
			}
		}
		got[task.Task.Name] = r
	}
	for name, changed := range map[string]bool{"stop": true, "stop again": false, "start": true, "start again": false,
		"restart": true, "signal": true, "stop group": true, "stop for absent": true, "absent": true,
		"absent again": false, "present": true, "present again": false} {
		r, ok := got[name]
		if !ok || r.failed || r.changed != changed {
			t.Errorf("task %q: ran %v, failed %v (%s), changed %v, want changed %v", name, ok, r.failed, r.msg, r.changed, changed)
		}
	}
	state := func(after, name string) procInfo { return got["after "+after].states[name] }
	for _, c := range []struct{ after, name, state string }{
		{"stop", "api", "STOPPED"}, {"start", "api", "RUNNING"}, {"restart", "api", "RUNNING"},
		{"stop group", "web:web_00", "STOPPED"}, {"stop group", "web:web_01", "STOPPED"}, {"stop group", "api", "RUNNING"},
		{"absent", "api", ""}, {"absent", "web:web_00", "STOPPED"}, {"present", "api", "RUNNING"},
	} {
		if st := state(c.after, c.name).State; st != c.state {
			t.Errorf("after %s: %s is %q, want %q", c.after, c.name, st, c.state)
		}
	}
	if a, b := state("start", "api").Pid, state("restart", "api").Pid; a == 0 || a == b {
		t.Errorf("restart: api's pid %d then %d", a, b)
	}
	waitFor(t, 10*time.Second, "got-hup in api's log", func() bool {
		b, _ := os.ReadFile(filepath.Join(m.dir, "api.log"))
		return strings.Contains(string(b), "got-hup")
	})
	if err != nil {
		t.Errorf("ansible-playbook: %v", err)
	}
}

// TestSupervisorctlInteractive: supervisorctl's own shell on a terminal,
// with Tab completion of commands and of the master's process names.
func TestSupervisorctlInteractive(t *testing.T) {
	m := startMaster(t, supervisorConfig)
	m.waitState("cat", "RUNNING", nil)
	s := m.supervisorctl()
	p := runOnPTY(t, exec.Command(s.bin, s.conn...))
	p.expectRE(`cat +RUNNING +pid \d+`) // it starts with status
	p.expect("supervisor> ")
	p.send("vers\t\n")
	p.expect("4.2.5-taskmaster")
	p.expect("supervisor> ")
	p.send("status ca\t\n")
	p.expectRE(`status cat\s+cat +RUNNING +pid \d+, uptime`)
	p.expect("supervisor> ")
	p.send("stop web:web_0\t\t")
	p.expect("web:web_00")
	p.expect("web:web_01")
	p.send("1\n")
	p.expect("web:web_01: stopped")
	p.expect("supervisor> ")
	p.send("quit\n")
	if code := p.waitExit(); code != 0 {
		t.Errorf("quit: exit %d", code)
	}
	if st := m.status("web:web_01").State; st != "STOPPED" {
		t.Errorf("web:web_01 %s after stop", st)
	}
}
