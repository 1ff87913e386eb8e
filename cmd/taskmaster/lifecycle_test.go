package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tryStatus is status that tolerates a master not answering yet.
func (m *tmaster) tryStatus(name string) (procInfo, bool) {
	cmd := execBinary("ctl", "-c", m.cfg, "status", name, "--json")
	out, err := cmd.Output()
	var infos []procInfo
	if err != nil || json.Unmarshal(out, &infos) != nil || len(infos) != 1 {
		return procInfo{}, false
	}
	return infos[0], true
}

// Issue 10, point 6a: after kill -9 of a master, a new one on the same
// rundir waits for the old workers (named, with their pids) to stop their
// jobs before it starts anything: never two jobs for one slot, and the
// old worker's last state-file write never lands on the new one's.
func TestNewMasterWaitsForPreviousWorkers(t *testing.T) {
	m := startMaster(t, `
programs:
  web:
    cmd: "/bin/sh -c 'trap \"\" TERM; exec sleep 1000'"
    starttime: 0
    stoptime: 2
`)
	old := m.waitState("web", "RUNNING", nil)
	oldWorker := ppid(t, old.Pid)
	waitStateFile(t, m.dir, "web", "RUNNING", old.Pid) // written a settle after RUNNING
	m.cmd.Process.Kill()
	// Not waitExit: the old worker holds the master's stderr until it
	// ends, and Wait waits for that. Nor its pid alone: a zombie leader's
	// other threads may still hold its files. Its lock is what counts.
	waitFor(t, 5*time.Second, "the killed master's lock", func() bool { return lockFree(filepath.Join(m.dir, "run", "taskmaster.pid")) })

	m2 := launch(t, m.dir, m.cfg, nil, "-c", m.cfg, "--no-shell")
	// The old worker's job ignores SIGTERM: the old worker kills it after
	// its stoptime (2s); all that time the new master must start nothing.
	var now procInfo
	waitFor(t, 20*time.Second, "the new job RUNNING", func() bool {
		in, ok := m2.tryStatus("web")
		if ok && in.Pid > 0 && alive(old.Pid) {
			t.Fatalf("new job %d runs next to the old %d", in.Pid, old.Pid)
		}
		now = in
		return ok && in.State == "RUNNING" && in.Pid != old.Pid
	})
	wantLine := fmt.Sprintf("waiting for the workers of a previous taskmaster to stop their jobs: web (pid %d)", oldWorker)
	if !strings.Contains(m2.out.String(), wantLine) || !strings.Contains(m2.log(), wantLine) {
		t.Fatalf("no %q on stderr and in the log:\n%s", wantLine, m2.out.String())
	}
	waitFor(t, 5*time.Second, "the old worker gone", func() bool { return !alive(oldWorker) })
	// The new worker writes after it reports: wait for its write. An old
	// worker's last word landing over it would stay there for good.
	waitStateFile(t, m.dir, "web", "RUNNING", now.Pid)
	out, code := runBinary(t, "state", "-c", m.cfg)
	if code != 0 || !strings.Contains(out, "RUNNING") || strings.Contains(out, "STALE") {
		t.Fatalf("taskmaster state: %d %q", code, out)
	}
}

// Issue 10, point 12: the state files record every state the master
// reaches: FATAL of a job that keeps exiting too fast (told to its worker
// before it quits) and of a slot whose worker cannot set up (recorded by
// the master, as no worker is there to).
func TestStateRecordsFatal(t *testing.T) {
	dir, cfg := writeConfig(t, `
programs:
  quick:
    cmd: "/bin/sh -c 'exit 3'"
    startretries: 1
    starttime: 1
  nolog:
    cmd: sleep 1000
    stdout: {{DIR}}/link.log
    startretries: 0
    autostart: false
`)
	m := launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
	// A log path that became a symlink after the config was read (check
	// refuses one it sees): the worker refuses it in its set-up.
	os.Symlink("/nonexistent/out.log", filepath.Join(dir, "link.log"))
	m.ctl("start", "nolog")
	m.waitState("quick", "FATAL", nil)
	m.waitState("nolog", "FATAL", nil)
	var out string
	waitFor(t, 5*time.Second, "taskmaster state to say FATAL twice", func() bool {
		out, _ = runBinary(t, "state", "-c", m.cfg)
		return strings.Count(out, "FATAL") == 2
	})
	_, lines := stateOutput(out)
	for _, l := range lines {
		if !strings.Contains(l, "FATAL") {
			t.Errorf("state line %q", l)
		}
	}
	if st := readStateFile(t, m.dir, "nolog"); !strings.Contains(st["error"].(string), "open stdout") {
		t.Errorf("nolog's record lacks the spawn error: %v", st)
	}
}

// Issue 10, point 18: `shutdown` with a `tail -f` client connected: the
// follower is ended and the master exits at once, not 5 s later.
func TestShutdownEndsFollowers(t *testing.T) {
	m := startMaster(t, `
programs:
  web:
    cmd: sleep 1000
    starttime: 0
`)
	m.waitState("web", "RUNNING", nil)
	tail := execBinary("ctl", "-c", m.cfg, "maintail", "-f")
	r, w, _ := os.Pipe()
	tail.Stdout = w
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	tailDone := make(chan struct{})
	go func() { tail.Wait(); close(tailDone) }()
	defer func() {
		tail.Process.Kill()
		<-tailDone
	}()
	// The follower is connected once it printed the log's tail.
	if _, err := r.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, r)
	start := time.Now()
	if out, code := m.ctl("shutdown"); code != 0 {
		t.Fatalf("shutdown: %d %q", code, out)
	}
	m.waitExit(10 * time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the master took %s to exit after shutdown with a follower", d)
	}
	select {
	case <-tailDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the tail -f client did not end")
	}
}

// `taskmaster state` never waits on a FIFO nor follows a symlink planted
// in the workers folder, and prints no control sequence from a file.
func TestStateCommandHostileFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	workers := filepath.Join(dir, "workers")
	os.MkdirAll(workers, 0o700)
	os.WriteFile(filepath.Join(workers, "evil.json"), []byte(`{"name":"evil\u001b]0;pwned\u0007","state":"RUNNING"}`), 0o644)
	secret := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(secret, []byte(`{"name":"secret","state":"LEAKED"}`), 0o600)
	os.Symlink(secret, filepath.Join(workers, "link.json"))
	mkfifo(t, filepath.Join(workers, "fifo.json"))
	out, code := runBinary(t, "state", dir)
	if code != 0 || strings.Contains(out, "\x1b") || strings.Contains(out, "LEAKED") || !strings.Contains(out, `evil\x1b]0;pwned\a`) {
		t.Fatalf("state: %d %q", code, out)
	}
	if !strings.Contains(out, "fifo.json: not a regular file") {
		t.Fatalf("the FIFO is not reported: %q", out)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lockFree reports whether the pid file's lock can be taken (and drops it).
func lockFree(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
