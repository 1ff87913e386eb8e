package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pattern writes n bytes of a known, non-repeating-per-block pattern.
func pattern(t *testing.T, path string, n int) [32]byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	block := make([]byte, 1<<20)
	for i := 0; i < n; i += len(block) {
		for j := range block {
			block[j] = byte((i/len(block))*7 + j*13 + j>>8)
		}
		w.Write(block[:min(len(block), n-i)])
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func fileSum(t *testing.T, path string) ([32]byte, int64) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, _ := io.Copy(h, f)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}

// 200 MiB written in one burst arrive byte for byte, before the exit is
// reported.
func TestOutputExactBytes(t *testing.T) {
	const size = 200 << 20
	dir, cfg := writeConfig(t, `
programs:
  flood:
    cmd: "cat {{DIR}}/pattern"
    stdout: out.log
    stdout_maxbytes: 0
    autorestart: never
    starttime: 0
`)
	want := pattern(t, filepath.Join(dir, "pattern"), size)
	m := launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
	m.waitState("flood", "EXITED", nil)
	got, n := fileSum(t, filepath.Join(dir, "out.log"))
	if n != size || got != want {
		t.Fatalf("out.log: %d bytes, checksum match %v", n, got == want)
	}
}

// Rotation at 1 MiB with 3 backups: at most 4 files, full backups, the
// newest bytes in the live file.
func TestOutputRotation(t *testing.T) {
	const size = 5<<20 + 12345
	dir, cfg := writeConfig(t, `
programs:
  flood:
    cmd: "cat {{DIR}}/pattern"
    stdout: out.log
    stdout_maxbytes: 1MB
    stdout_backups: 3
    autorestart: never
    starttime: 0
`)
	pattern(t, filepath.Join(dir, "pattern"), size)
	data, _ := os.ReadFile(filepath.Join(dir, "pattern"))
	m := launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
	m.waitState("flood", "EXITED", nil)
	want := map[string][]byte{
		"out.log":   data[5<<20:],
		"out.log.1": data[4<<20 : 5<<20],
		"out.log.2": data[3<<20 : 4<<20],
		"out.log.3": data[2<<20 : 3<<20],
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "out.log*"))
	if len(logs) != 4 {
		t.Fatalf("files: %v", logs)
	}
	for name, w := range want {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(b, w) {
			t.Errorf("%s: %d bytes, want %d of the right content", name, len(b), len(w))
		}
	}
}

// The last line before a crash is in the file; binary data and NUL bytes
// pass unchanged; stdout and stderr to one file share it.
func TestOutputLastLineAndBinary(t *testing.T) {
	m := startMaster(t, `
programs:
  crash:
    cmd: "/bin/sh -c 'printf \"a\\000b\\377\\n\"; echo to-stderr >&2; echo last-line; kill -9 $$'"
    stdout: both.log
    stderr: both.log
    autorestart: never
    starttime: 0
`)
	m.waitState("crash", "EXITED", nil)
	b, _ := os.ReadFile(filepath.Join(m.dir, "both.log"))
	if string(b) != "a\x00b\xff\nto-stderr\nlast-line\n" {
		t.Fatalf("both.log: %q", b)
	}
}

// tail reads a file stream, or a discarded stream's kept output; tail -f
// sees what is printed after it started; clear empties; maintail shows
// the event log.
func TestTailClearMaintail(t *testing.T) {
	m := startMaster(t, `
programs:
  talker:
    cmd: "/bin/sh -c 'echo hello-out; echo hello-err >&2; trap \"echo ping\" USR1; while :; do sleep 0.05; done'"
    stdout: out.log
    starttime: 0
`)
	m.waitState("talker", "RUNNING", nil)
	waitFor(t, 5*time.Second, "output", func() bool {
		out, _ := m.ctl("tail", "talker", "stderr")
		return out == "hello-err\n"
	})
	if out, code := m.ctl("tail", "talker"); code != 0 || out != "hello-out\n" {
		t.Fatalf("tail: %d %q", code, out)
	}
	if out, _ := m.ctl("tail", "-5", "talker"); out != "-out\n" {
		t.Fatalf("tail -5: %q", out)
	}

	for _, stream := range []string{"stdout", "stderr"} {
		cmd := execBinary("ctl", "-c", m.cfg, "tail", "-f", "talker", stream)
		pipe, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(pipe)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		if l := <-lines; l != "hello-"+stream[3:] {
			t.Fatalf("tail -f %s first line %q", stream, l)
		}
		if stream == "stdout" {
			m.ctl("signal", "USR1", "talker")
			select {
			case l := <-lines:
				if l != "ping" {
					t.Fatalf("tail -f: %q", l)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("tail -f did not see the new line")
			}
		}
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}

	if out, code := m.ctl("clear", "talker"); code != 0 || out != "talker: cleared\n" {
		t.Fatalf("clear: %d %q", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(m.dir, "out.log")); len(b) != 0 {
		t.Fatalf("out.log after clear: %q", b)
	}
	if out, _ := m.ctl("tail", "talker", "stderr"); out != "" {
		t.Fatalf("kept stderr after clear: %q", out)
	}
	out, _ := m.ctl("maintail", "-200")
	if !strings.Contains(out, "talker") || len(out) > 200 {
		t.Fatalf("maintail: %q", out)
	}
	if out, code := m.ctl("tail", "nope"); code != 1 || out != "ERROR (no such process): nope\n" {
		t.Fatalf("tail nope: %q", out)
	}
}

// SIGUSR2 after logrotate moved the file: new output goes to a new file.
func TestSIGUSR2Reopens(t *testing.T) {
	m := startMaster(t, `
programs:
  talker:
    cmd: "/bin/sh -c 'trap \"echo ping\" USR1; echo first; while :; do sleep 0.05; done'"
    stdout: web.out
    starttime: 0
`)
	m.waitState("talker", "RUNNING", nil)
	out := filepath.Join(m.dir, "web.out")
	waitFor(t, 5*time.Second, "first line", func() bool { b, _ := os.ReadFile(out); return len(b) > 0 })
	os.Rename(out, out+".old")
	os.Rename(filepath.Join(m.dir, "taskmaster.log"), filepath.Join(m.dir, "taskmaster.log.old"))
	syscall.Kill(m.cmd.Process.Pid, syscall.SIGUSR2)
	waitFor(t, 5*time.Second, "a new event log", func() bool {
		_, err := os.Stat(filepath.Join(m.dir, "taskmaster.log"))
		return err == nil
	})
	m.ctl("signal", "USR1", "talker")
	waitFor(t, 5*time.Second, "ping in the new file", func() bool {
		b, _ := os.ReadFile(out)
		return string(b) == "ping\n"
	})
	if b, _ := os.ReadFile(out + ".old"); string(b) != "first\n" {
		t.Fatalf("old file %q", b)
	}
}

// A flood on one job does not hold up the others: another job's restart
// still happens and status still answers.
func TestFloodDoesNotBlockOthers(t *testing.T) {
	m := startMaster(t, `
programs:
  flood:
    cmd: "cat /dev/zero"
    starttime: 0
  victim:
    cmd: sleep 1000
    starttime: 0
`)
	m.waitState("flood", "RUNNING", nil)
	first := m.waitState("victim", "RUNNING", nil)
	for i := 0; i < 5; i++ {
		in := m.status("victim")
		syscall.Kill(in.Pid, syscall.SIGKILL)
		m.waitState("victim", "RUNNING", func(p procInfo) bool { return p.Pid != in.Pid })
	}
	if in := m.status("victim"); in.Restarts != 5 || in.Pid == first.Pid {
		t.Fatalf("victim: %+v", in)
	}
	out, _ := m.ctl("tail", "-16", "flood")
	if out != strings.Repeat("\x00", 16) {
		t.Fatalf("tail of the flood: %q", out)
	}

}
