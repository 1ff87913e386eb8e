package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/worker/testuser"
)

// These tests play a job's user U (or the job itself) against the paths
// root opens for it: log files, the event log, tail and clear (issue 10,
// points 3, 4 and 9).

// attack is the stage of one attack: U, a folder DIR where DIR/A and
// DIR/A/logs are U's, and DIR/root a root-only folder holding a root-only
// app.log.
type attack struct {
	user     string
	dir      string
	rootFile string
	secret   string
}

func newAttack(t *testing.T, tag string) attack {
	t.Helper()
	u := testuser.New(t, "pth"+tag, testuser.Options{Shell: "/bin/sh"})
	a := attack{user: u.Name, dir: t.TempDir(), secret: "root-only secret\n"}
	for d := a.dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	for _, d := range []string{"A", "A/logs"} {
		p := filepath.Join(a.dir, d)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(p, u.UID, u.GID)
	}
	if err := os.Mkdir(filepath.Join(a.dir, "root"), 0o700); err != nil {
		t.Fatal(err)
	}
	a.rootFile = filepath.Join(a.dir, "root", "app.log")
	if err := os.WriteFile(a.rootFile, []byte(a.secret), 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}

// waitSwapped waits for the job to have done swapLogs.
func (a attack) waitSwapped(t *testing.T) {
	t.Helper()
	waitFor(t, 10*time.Second, "the swap", func() bool {
		_, err := os.Stat(filepath.Join(a.dir, "A", "swapped"))
		return err == nil
	})
}

// rootFileIntact fails the test if root's file changed.
func (a attack) rootFileIntact(t *testing.T) {
	t.Helper()
	if got := mustRead(t, a.rootFile); got != a.secret {
		t.Errorf("root's file changed: %q", got)
	}
}

// startIn starts a master on yaml in dir, made beforehand.
func startIn(t *testing.T, dir, yaml string) *tmaster {
	t.Helper()
	cfg := filepath.Join(dir, "taskmaster.yaml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(yaml, "{{DIR}}", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	return launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
}

// rpc calls method on the master's XML-RPC socket with params (each an
// XML-RPC <value>) and returns the answer's body.
func (m *tmaster) rpc(method string, params ...string) string {
	m.t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", m.rpcSock())
		},
	}}
	var body strings.Builder
	fmt.Fprintf(&body, `<?xml version="1.0"?><methodCall><methodName>%s</methodName><params>`, method)
	for _, p := range params {
		fmt.Fprintf(&body, "<param>%s</param>", p)
	}
	body.WriteString("</params></methodCall>")
	resp, err := c.Post("http://localhost/RPC2", "text/xml", strings.NewReader(body.String()))
	if err != nil {
		m.t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		m.t.Fatalf("%s: %v", method, err)
	}
	return string(out)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// swapLogs is the job's attack: logs/ becomes a link to root's folder.
const swapLogs = `cd {{DIR}}/A && mv logs logs.old && ln -s {{DIR}}/root logs`

// The job swaps its log folder for a link to a root folder and kills its
// own worker: the new worker, root until its drop, must neither append to
// the root file there nor create one; the slot fails with the reason.
func TestLogFolderSwapRefused(t *testing.T) {
	a := newAttack(t, "s")
	m := startIn(t, a.dir, `
programs:
  victim:
    cmd: "/bin/sh -c 'if [ ! -e {{DIR}}/A/swapped ]; then touch {{DIR}}/A/swapped; `+swapLogs+`; kill -9 $PPID; fi; echo pwned; echo pwned >&2; exec sleep 1000'"
    user: `+a.user+`
    stdout: {{DIR}}/A/logs/app.log
    stderr: {{DIR}}/A/logs/new.log
    starttime: 0
    startretries: 1
    autorestart: always
`)
	in := m.waitState("victim", "FATAL", nil)
	if !strings.Contains(in.Description, "symbolic link another user controls") {
		t.Errorf("FATAL reason %q", in.Description)
	}
	a.rootFileIntact(t)
	if _, err := os.Stat(filepath.Join(a.dir, "root", "new.log")); err == nil {
		t.Errorf("root's folder gained new.log")
	}
}

// The job replaces its log with a FIFO and kills its worker: the new
// worker fails at once with a clear reason instead of hanging root in
// open(); stop and shutdown stay prompt, no worker is left.
func TestLogFIFOFailsSpawn(t *testing.T) {
	m := startMaster(t, `
programs:
  victim:
    cmd: "/bin/sh -c 'if [ ! -e {{DIR}}/swapped ]; then touch {{DIR}}/swapped; rm {{DIR}}/app.log; mkfifo {{DIR}}/app.log; kill -9 $PPID; fi; exec sleep 1000'"
    stdout: app.log
    starttime: 0
    startretries: 1
    autorestart: always
`)
	start := time.Now()
	in := m.waitState("victim", "FATAL", nil)
	want := fmt.Sprintf("open stdout %s: not a regular file (fifo)", filepath.Join(m.dir, "app.log"))
	if !strings.Contains(in.Description, want) {
		t.Errorf("FATAL reason %q, want %q", in.Description, want)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("FATAL after %s", d)
	}
	done := make(chan string, 1)
	go func() { out, _ := m.ctl("stop", "victim"); done <- out }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ctl stop hung")
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	m.waitExit(10 * time.Second)
	if left := ours(m.marker); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// tail and clear of a job whose log folder was swapped for a link to a
// root folder: while its worker runs they go through the worker's own
// file; once stopped, the master refuses the path. Root's 0600 file is
// never printed nor truncated.
func TestTailClearThroughSwappedFolder(t *testing.T) {
	a := newAttack(t, "t")
	m := startIn(t, a.dir, `
programs:
  victim:
    cmd: "/bin/sh -c 'echo job-output; `+swapLogs+`; touch {{DIR}}/A/swapped; exec sleep 1000'"
    user: `+a.user+`
    stdout: {{DIR}}/A/logs/app.log
    starttime: 0
    autorestart: never
`)
	m.waitState("victim", "RUNNING", nil)
	a.waitSwapped(t)
	if out, code := m.ctl("tail", "victim"); code != 0 || out != "job-output\n" {
		t.Errorf("tail with a worker: %d %q", code, out)
	}
	if out, code := m.ctl("clear", "victim"); code != 0 || out != "victim: cleared\n" {
		t.Errorf("clear with a worker: %d %q", code, out)
	}
	if got := mustRead(t, filepath.Join(a.dir, "A", "logs.old", "app.log")); got != "" {
		t.Errorf("the job's own log after clear: %q", got)
	}
	// supervisor's API reads the log by its path, worker or not.
	readLog := []string{"<value><string>victim</string></value>", "<value><int>0</int></value>", "<value><int>1000</int></value>"}
	if out := m.rpc("supervisor.readProcessStdoutLog", readLog...); !strings.Contains(out, "NO_FILE") || strings.Contains(out, "root-only") {
		t.Errorf("readProcessStdoutLog with a worker: %q", out)
	}
	m.ctl("stop", "victim")
	m.waitState("victim", "STOPPED", nil)
	if out := m.rpc("supervisor.readProcessStdoutLog", readLog...); !strings.Contains(out, "NO_FILE") || strings.Contains(out, "root-only") {
		t.Errorf("readProcessStdoutLog without a worker: %q", out)
	}
	out, code := m.ctl("tail", "victim")
	if code != 1 || !strings.HasPrefix(out, "ERROR (no log): ") || !strings.Contains(out, "symbolic link another user controls") {
		t.Errorf("tail without a worker: %d %q", code, out)
	}
	out, code = m.ctl("clear", "victim")
	if code != 1 || !strings.Contains(out, "symbolic link another user controls") {
		t.Errorf("clear without a worker: %d %q", code, out)
	}
	a.rootFileIntact(t)
}

// The job swaps the event log's folder (which its user can write) for a
// link to a root folder; logrotate's SIGUSR2 then reopens the event log:
// root must not append to the root file there, and says why.
func TestEventLogSwapRefused(t *testing.T) {
	a := newAttack(t, "e")
	a.rootFile = filepath.Join(a.dir, "root", "taskmaster.log")
	if err := os.WriteFile(a.rootFile, []byte(a.secret), 0o600); err != nil {
		t.Fatal(err)
	}
	m := startIn(t, a.dir, `
taskmaster:
  logfile: {{DIR}}/A/logs/taskmaster.log
programs:
  victim:
    cmd: "/bin/sh -c '`+swapLogs+`; touch {{DIR}}/A/swapped; exec sleep 1000'"
    user: `+a.user+`
    starttime: 0
`)
	m.waitState("victim", "RUNNING", nil)
	a.waitSwapped(t)
	syscall.Kill(m.cmd.Process.Pid, syscall.SIGUSR2)
	old := filepath.Join(a.dir, "A", "logs.old", "taskmaster.log")
	waitFor(t, 10*time.Second, "the refusal in the old event log", func() bool {
		b, _ := os.ReadFile(old)
		return strings.Contains(string(b), "symbolic link another user controls")
	})
	m.ctl("status") // an event, for a log that would follow the link
	a.rootFileIntact(t)
}

// A full disk: a job writing without pause into a 64 KiB tmpfs makes a
// bounded number of event-log lines, and one more when space is freed.
func TestDiskFullReportedOnce(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	os.Mkdir(full, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full).CombinedOutput(); err != nil {
		t.Skipf("SKIP: mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", full).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v %s; unmounting lazily", full, err, out)
			exec.Command("umount", "-l", full).Run()
		}
	})
	m := startIn(t, dir, `
programs:
  filler:
    cmd: "yes filling-the-disk"
    stdout: {{DIR}}/full/out.log
    stdout_maxbytes: 0
    starttime: 0
`)
	m.waitState("filler", "RUNNING", nil)
	out := filepath.Join(full, "out.log")
	lines := func(sub string) int { return strings.Count(m.log(), sub) }
	waitFor(t, 10*time.Second, "the first failure reported", func() bool {
		return lines("write "+out+": no space left on device") > 0
	})
	// Watch it fail for a while: thousands of failed writes, one line.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if n := lines("write " + out); n != 1 {
			t.Fatalf("%d event-log lines about the full disk, want 1", n)
		}
	}
	if err := os.Truncate(out, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the recovery reported", func() bool {
		return lines("write "+out+": works again after ") > 0
	})
	for _, l := range strings.Split(m.log(), "\n") {
		if strings.Contains(l, "works again") && !strings.Contains(l, " INFO  filler") {
			t.Errorf("recovery not at INFO: %q", l)
		}
	}
	// The job fills the disk again at once: one more line for that run.
	if n := lines("write " + out); n > 4 {
		t.Errorf("%d event-log lines about the full disk", n)
	}
	m.ctl("stop", "filler")
}
