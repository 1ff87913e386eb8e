package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A home that does not exist (HOME=/nonexistent, as for nobody) must not
// keep the shell from starting: one warning naming the file and the
// error, then a shell without history. Master, ctl -c and ctl -s alike.
func TestUnusableHistoryWarns(t *testing.T) {
	dir, cfg := writeConfig(t, `
programs:
  web:
    cmd: sleep 1000
    starttime: 0
`)
	marker := "TM_TEST_MARKER=nohistory"
	t.Cleanup(func() { killLeftovers(marker) })
	env := []string{marker, "HOME=/nonexistent"}
	const warning = "warning: open history /nonexistent/.taskmaster_history"
	p := startOnPTY(t, dir, env, "-c", cfg)
	p.expect("taskmaster: " + warning)
	p.expect("running without history")
	p.expect("taskmaster> ")
	sock := filepath.Join(dir, "run", "taskmaster.sock")
	for _, args := range [][]string{{"ctl", "-c", cfg}, {"ctl", "-s", sock}} {
		c := startOnPTY(t, dir, env, args...)
		c.expect("taskmaster ctl: " + warning)
		c.expect("taskmaster> ")
		c.send("version\r")
		c.expect("0.1.0")
		c.send("exit\r")
		if code := c.waitExit(); code != 0 {
			t.Fatalf("%v: exit code %d", args, code)
		}
		if n := strings.Count(c.out.String(), "warning:"); n != 1 {
			t.Fatalf("%v: %d warnings, want 1", args, n)
		}
	}
	(&tmaster{t: t, dir: dir, cfg: cfg}).waitState("web", "RUNNING", nil)
	p.send("status\r")
	p.expectRE(`web\s+RUNNING`)
	p.send("\x1b[A") // history still works in memory
	p.expect("status")
	p.send("\x15shutdown\r")
	p.expect("Shut down")
	if code := p.waitExit(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if n := strings.Count(p.out.String(), "warning:"); n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
}
