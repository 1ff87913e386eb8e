package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// launchPiped runs a master whose stdin is a pipe; it returns the pipe's
// write end, which cleanup closes.
func launchPiped(t *testing.T, yaml string) (*tmaster, *os.File) {
	t.Helper()
	dir, cfg := writeConfig(t, yaml)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	m := launch(t, dir, cfg, r, "-c", cfg)
	r.Close()
	return m, w
}

// A line over 1 MiB on the master's piped stdin is an error line, not the
// end of input: the programs keep running and the next line runs.
func TestPipedLineTooLong(t *testing.T) {
	m, w := launchPiped(t, shellConfig)
	web := m.waitState("web", "RUNNING", nil)
	go w.WriteString(strings.Repeat("x", 2<<20) + "\nversion\n")
	waitFor(t, 10*time.Second, "the next line's answer", func() bool {
		i, _ := m.out.find(0, "0.1.0\n")
		return i >= 0
	})
	if !strings.Contains(m.out.String(), "ERROR (line too long): 2097152 bytes, more than 1048576: ignored\n0.1.0\n") {
		t.Fatalf("output: %q", m.out.String())
	}
	if now := m.status("web"); now.State != "RUNNING" || now.Pid != web.Pid {
		t.Fatalf("web after the long line: %+v, was %+v", now, web)
	}
	w.Close() // EOF still means shutdown
	if code := m.waitExit(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// The same for ctl's piped shell.
func TestCtlPipedLineTooLong(t *testing.T) {
	m := startMaster(t, shellConfig)
	cmd := execBinary("ctl", "-c", m.cfg)
	cmd.Stdin = strings.NewReader("version\n" + strings.Repeat("x", 2<<20) + "\nversion\n")
	out, err := cmd.CombinedOutput()
	want := "0.1.0\nERROR (line too long): 2097152 bytes, more than 1048576: ignored\n0.1.0\n"
	if err != nil || string(out) != want {
		t.Fatalf("ctl: %v %q, want %q", err, out, want)
	}
}
