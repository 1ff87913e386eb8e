package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// waitStateFile waits for name's state file to say state and pid; each
// read of it must decode (stateFileOf).
func waitStateFile(t *testing.T, dir, name, state string, pid int) map[string]any {
	t.Helper()
	var st map[string]any
	waitFor(t, 10*time.Second, fmt.Sprintf("%s's state file to say %s, pid %d", name, state, pid), func() bool {
		var err error
		st, err = stateFileOf(t, dir, name)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return err == nil && st["state"] == state && int(st["pid"].(float64)) == pid
	})
	return st
}

// Issue 12: the state file's writes are coalesced and come after the
// report to the master, yet after every transition the file says the
// state the master reached, with the right pid: none is lost (a flush
// that never comes fails here), none is stale.
func TestStateFileEveryTransition(t *testing.T) {
	m := startMaster(t, `
programs:
  web:
    cmd: sleep 1000
    starttime: 3
  flaky:
    cmd: "/bin/sh -c 'sleep 0.3; exit 3'"
    starttime: 2
    startretries: 2
  quick:
    cmd: "/bin/sh -c 'exit 0'"
    starttime: 0
    autorestart: never
`)
	// STARTING has no pid until the worker reports Started.
	in := m.waitState("web", "STARTING", func(i procInfo) bool { return i.Pid != 0 })
	waitStateFile(t, m.dir, "web", "STARTING", in.Pid)
	m.waitState("web", "RUNNING", nil)
	waitStateFile(t, m.dir, "web", "RUNNING", in.Pid)

	m.waitState("flaky", "BACKOFF", nil)
	if st := waitStateFile(t, m.dir, "flaky", "BACKOFF", 0); st["exitstatus"].(float64) != 3 {
		t.Errorf("BACKOFF's exit status: %v", st)
	}
	m.waitState("flaky", "FATAL", nil)
	waitStateFile(t, m.dir, "flaky", "FATAL", 0)

	m.waitState("quick", "EXITED", nil)
	waitStateFile(t, m.dir, "quick", "EXITED", 0)

	if out, code := m.ctl("stop", "web"); code != 0 {
		t.Fatalf("stop: %d %q", code, out)
	}
	m.waitState("web", "STOPPED", nil)
	waitStateFile(t, m.dir, "web", "STOPPED", 0)

	if out, code := m.ctl("start", "web"); code != 0 {
		t.Fatalf("start: %d %q", code, out)
	}
	in = m.waitState("web", "RUNNING", nil)
	waitStateFile(t, m.dir, "web", "RUNNING", in.Pid)

	// A restart after the job died: the new pid, RUNNING again.
	syscall.Kill(in.Pid, syscall.SIGKILL)
	again := m.waitState("web", "RUNNING", func(i procInfo) bool { return i.Pid != in.Pid })
	if st := waitStateFile(t, m.dir, "web", "RUNNING", again.Pid); st["restarts"].(float64) < 1 {
		t.Errorf("restart not counted: %v", st)
	}
}

// Issue 12: root keeps the state files on a tmpfs under /run when /run is
// one, in /run/taskmaster/HASH/workers, and nowhere in the rundir; the
// workers still write their last state there once the master is killed,
// and `taskmaster state -c` finds and names that folder. /run is a tmpfs
// mounted in a mount namespace of the test's own (the machine's /run is
// never touched), which a holder process keeps alive until cleanup.
func TestStateFilesOnRunTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: state files under /run are root's (run `make test` as root)")
	}
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: %s is missing: %v", tool, err)
		}
	}
	dir, cfg := writeConfig(t, `
programs:
  web:
    cmd: sleep 1000
    starttime: 0
  pool:
    cmd: sleep 1000
    numprocs: 2
    starttime: 0
`)
	rundir := filepath.Join(dir, "run")
	if statefile.ParentIn(rundir, "", "/dev/shm", 0) == rundir { // /dev/shm: any tmpfs
		t.Skip("SKIP: the test's rundir is on a tmpfs (the state files stay there) or /dev/shm is not one")
	}
	holder := exec.Command("unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
		`mount -t tmpfs -o mode=0755 tmpfs /run && echo ready && exec sleep 1000`)
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	ready := make([]byte, 6)
	if n, err := out.Read(ready); err != nil || string(ready[:n]) != "ready\n" {
		t.Skipf("SKIP: cannot mount a tmpfs in a mount namespace: %q %v", ready[:n], err)
	}
	ns := fmt.Sprint(holder.Process.Pid)
	inNS := func(args ...string) (string, int) { // taskmaster in the namespace
		return runCommand(t, "nsenter", append([]string{"-t", ns, "-m", binary}, args...)...)
	}
	m := launchBinary(t, "/usr/bin/nsenter", dir, cfg, nil, "-t", ns, "-m", binary, "-c", cfg, "--no-shell")
	in := m.waitState("web", "RUNNING", nil)
	m.waitState("pool:pool_01", "RUNNING", nil)

	folder := statefile.Dir(statefile.RunParent(statefile.RunBase, rundir))
	var got string
	var lines []string
	waitFor(t, 10*time.Second, "taskmaster state to read the tmpfs folder", func() bool {
		o, code := inNS("state", "-c", cfg)
		got, lines = stateOutput(o)
		return code == 0 && got == folder && len(lines) == 3 && strings.Contains(o, fmt.Sprintf("pid %d", in.Pid))
	})
	if _, err := os.Lstat(filepath.Join(rundir, "workers")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a workers folder in the rundir: %v", err)
	}
	if _, err := os.Lstat(filepath.Dir(folder)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the machine's /run got %s: %v", filepath.Dir(folder), err)
	}
	modes, _ := runCommand(t, "nsenter", "-t", ns, "-m", "stat", "-c", "%a %U", statefile.RunBase+"/taskmaster", filepath.Dir(folder), folder)
	if modes != "700 root\n700 root\n1733 root\n" {
		t.Errorf("modes and owners of /run/taskmaster, its folder, workers: %q", modes)
	}

	m.cmd.Process.Kill()
	m.waitExit(5 * time.Second)
	waitFor(t, 10*time.Second, "every worker's last state in the tmpfs folder", func() bool {
		o, _ := inNS("state", "-c", cfg)
		_, lines = stateOutput(o)
		return len(lines) == 3 && strings.Count(o, "STOPPED") == 3 && strings.Count(o, "master went away") == 3
	})
}

// runCommand runs a command to its end and returns its combined output
// and exit code.
func runCommand(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	b, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return string(b), cmd.ProcessState.ExitCode()
}

// spares lists the writers' spare files (.NAME.json.PID.tmp) in folder.
func spares(t *testing.T, folder string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(folder, ".*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// Issue 12: a worker keeps one spare file, swapped with NAME.json at
// each write. `taskmaster state` never shows it; a worker that exits
// removes its own; a SIGKILLed worker's spare is removed when the file
// it wrote is replaced (the master's record of the slot, or the next
// worker's start).
func TestStateFileSpares(t *testing.T) {
	m := startMaster(t, `
programs:
  web:
    cmd: sleep 1000
    starttime: 1
`)
	folder := stateFolder(filepath.Join(m.dir, "run"), "")
	in := m.waitState("web", "RUNNING", nil)
	// STARTING with the pid, then RUNNING a second later: two writes,
	// the second made a spare.
	st := waitStateFile(t, m.dir, "web", "RUNNING", in.Pid)
	worker := int(st["worker_pid"].(float64))
	spare := fmt.Sprintf(".web.json.%d.tmp", worker)
	if got := spares(t, folder); !slices.Equal(got, []string{spare}) {
		t.Fatalf("spares %v, want [%s]", got, spare)
	}
	out, code := runBinary(t, "state", "-c", m.cfg)
	if _, lines := stateOutput(out); code != 0 || len(lines) != 1 || strings.Contains(out, ".tmp") {
		t.Fatalf("state shows the spare: %d %q", code, out)
	}

	// SIGKILL: the spare stays until the master spawns the next worker.
	syscall.Kill(worker, syscall.SIGKILL)
	waitFor(t, 10*time.Second, "a new worker to write web's state file", func() bool {
		st, err := stateFileOf(t, m.dir, "web")
		return err == nil && int(st["worker_pid"].(float64)) != worker && st["state"] == "RUNNING"
	})
	if got := spares(t, folder); slices.Contains(got, spare) {
		t.Fatalf("the dead worker's spare %s is still there: %v", spare, got)
	}

	// A normal end: every worker removes its spare after its last write.
	syscall.Kill(m.cmd.Process.Pid, syscall.SIGTERM)
	m.waitExit(10 * time.Second)
	waitFor(t, 10*time.Second, "workers and jobs gone", func() bool { return len(ours(m.marker)) == 0 })
	if got := spares(t, folder); len(got) != 0 {
		t.Fatalf("spares left after a normal exit: %v", got)
	}
	if st := readStateFile(t, m.dir, "web"); st["state"] != "STOPPED" {
		t.Fatalf("final state: %v", st)
	}
}
