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

	// The log has the job's output too.
	p.send("shutdown\r")
	p.expect("Shut down")
	p.waitExit()

}

func TestCtlAttachNeedsTerminal(t *testing.T) {
	m := startMaster(t, attachConfig)
	m.waitState("echo", "RUNNING", nil)
	out, code := m.ctl("attach", "echo")
	if code != 1 || !strings.Contains(out, "attach needs a terminal") {
		t.Fatalf("%d %q", code, out)
	}
}
