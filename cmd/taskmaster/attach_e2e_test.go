package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

const attachConfig = `
taskmaster:
  history: hist
programs:
  echo:
    cmd: "/bin/sh -c 'while read l; do case $l in size) stty size;; quit) exit 3;; *) echo got:$l;; esac; done'"
    tty: true
    starttime: 0
    stdout: echo.log
  flood:
    cmd: "/bin/sh -c 'while :; do echo floodfloodfloodfloodfloodfloodflood; done'"
    tty: true
    starttime: 0
  plain:
    cmd: sleep 1000
    starttime: 0
  idle:
    cmd: cat
    tty: true
    autostart: false
`

func TestAttachDetach(t *testing.T) {
	dir, cfg := writeConfig(t, attachConfig)
	marker := "TM_TEST_MARKER=attach"
	t.Cleanup(func() { killLeftovers(marker) })
	p := startOnPTY(t, dir, []string{marker}, "-c", cfg)
	p.expect("taskmaster> ")
	var pid int
	waitFor(t, 10*time.Second, "echo running", func() bool {
		out, _ := runBinary(t, "ctl", "-c", cfg, "pid", "echo")
		fmt.Sscan(out, &pid)
		return pid > 0
	})

	p.send("attach echo\r")
	p.expect("[attached to echo: detach with ^]]")
	p.send("hello\r")
	p.expect("got:hello")
	p.send("\x1d")
	p.expect("[detached from echo]")
	p.expect("taskmaster> ")
	out, _ := runBinary(t, "ctl", "-c", cfg, "pid", "echo")
	if strings.TrimSpace(out) != fmt.Sprint(pid) {
		t.Fatalf("pid changed after detach: %q, was %d", out, pid)
	}

	// Attach again: the earlier output is replayed; the window size
	// follows the client's terminal.
	p.send("fg echo\r")
	p.expect("[attached to echo: detach with ^]]")
	p.expect("got:hello")
	pty.Setsize(p.ptmx, &pty.Winsize{Rows: 40, Cols: 120})
	waitFor(t, 10*time.Second, "the new size inside the job", func() bool {
		p.send("size\r")
		time.Sleep(50 * time.Millisecond)
		return strings.Contains(p.out.String()[p.mark:], "40 120")
	})

	// A second client from ctl on another terminal: both see the output.
	q := startOnPTY(t, dir, nil, "ctl", "-c", cfg, "attach", "echo")
	q.expect("[attached to echo")
	q.send("from-ctl\r")
	q.expect("got:from-ctl")
	p.expect("got:from-ctl")
	q.send("\x1d")
	q.expect("[detached from echo]")
	if code := q.waitExit(); code != 0 {
		t.Fatalf("ctl attach exit %d", code)
	}

	// The job exits while attached.
	p.send("quit\r")
	p.expect("[echo exited with code 3]")
	p.expect("taskmaster> ")

	// Detach works during a flood.
	p.send("attach flood\r")
	p.expect("[attached to flood")
	p.expect("floodflood")
	p.send("\x1d")
	p.expect("[detached from flood]")
	p.expect("taskmaster> ")

	// Clear errors for a non-tty job and a stopped one.
	p.send("attach plain\r")
	p.expect("ERROR (not a tty program): plain")
	p.send("attach idle\r")
	p.expect("ERROR (not running): idle")
	p.send("attach nope\r")
	p.expect("ERROR (no such process): nope")
	expectAttachUsage(p)

	// The log has the job's output too.
	p.send("shutdown\r")
	p.expect("Shut down")
	p.waitExit()

}

// Without a terminal, attach is an error line like any other, with the
// reason attaching would have failed first; a piped ctl goes on to the
// next line. No name or extra words are a usage error, everywhere.
func TestCtlAttachNeedsTerminal(t *testing.T) {
	m := startMaster(t, attachConfig)
	m.waitState("echo", "RUNNING", nil)
	m.waitState("plain", "RUNNING", nil)
	const (
		needs = "ERROR (attach needs a terminal): run it from the interactive shell or `taskmaster ctl attach NAME` on a terminal\n"
		usage = "ERROR (bad arguments): usage: attach NAME\n"
	)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"attach", "echo"}, needs},
		{[]string{"fg", "echo"}, needs},
		{[]string{"attach", "plain"}, "ERROR (not a tty program): plain; set tty: true in its config to attach\n"},
		{[]string{"attach", "idle"}, "ERROR (not running): idle\n"},
		{[]string{"attach", "nope"}, "ERROR (no such process): nope\n"},
		{[]string{"attach"}, usage},
		{[]string{"attach", "echo", "plain"}, usage},
	} {
		if out, code := m.ctl(c.args...); code != 1 || out != c.want {
			t.Errorf("ctl %v: %d %q, want 1 %q", c.args, code, out, c.want)
		}
	}

	// Piped into ctl's shell: each attach line gets its error, the next
	// line still runs.
	cmd := execBinary("ctl", "-c", m.cfg)
	cmd.Stdin = strings.NewReader("attach echo\nattach plain\nattach\nfg a b\nversion\n")
	out, err := cmd.CombinedOutput()
	want := needs + "ERROR (not a tty program): plain; set tty: true in its config to attach\n" + usage + usage + "0.1.0\n"
	if err != nil || string(out) != want {
		t.Fatalf("piped ctl: %v\n%s\nwant\n%s", err, out, want)
	}
}

// In ctl's interactive shell, attach with no name or extra words is a
// usage error too, not "attach needs a terminal".
func TestCtlShellAttachUsage(t *testing.T) {
	m := startMaster(t, attachConfig)
	p := startOnPTY(t, m.dir, []string{"HOME=" + m.dir}, "ctl", "-c", m.cfg)
	p.expect("taskmaster> ")
	expectAttachUsage(p)
	p.send("exit\r")
	p.waitExit()
}

// expectAttachUsage types attach with no name, then with two.
func expectAttachUsage(p *ptyProc) {
	p.t.Helper()
	p.send("attach\r")
	p.expect("ERROR (bad arguments): usage: attach NAME")
	p.send("fg echo plain\r")
	p.expect("ERROR (bad arguments): usage: attach NAME")
	p.expect("taskmaster> ")
}
