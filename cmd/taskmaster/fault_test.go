package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/worker/testuser"
)

func readStateFile(t *testing.T, dir, name string) map[string]any {
	t.Helper()
	st, err := stateFileOf(t, dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// stateFileOf reads name's state file for the master whose config is in
// dir (the default rundir). It fails the test if the file does not
// decode: it is replaced in one rename, never seen half-written.
func stateFileOf(t *testing.T, dir, name string) (map[string]any, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stateFolder(filepath.Join(dir, "run"), ""), name+".json"))
	if err != nil {
		return nil, err
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state file %s: %v: %q", name, err, b)
	}
	return st, nil
}

// Workers keep state files current; after the master is killed they say
// why they stopped, and `taskmaster state` reads them with no master.
func TestStateFilesSurviveMasterKill(t *testing.T) {
	m := startMaster(t, `
programs:
  web:
    cmd: sleep 1000
    starttime: 0
    umask: "027"
  pool:
    cmd: sleep 1000
    numprocs: 2
    starttime: 0
`)
	in := m.waitState("web", "RUNNING", nil)
	// Both: the workers set up independently, so one RUNNING says
	// nothing of the other's state file.
	m.waitState("pool:pool_00", "RUNNING", nil)
	m.waitState("pool:pool_01", "RUNNING", nil)
	st := waitStateFile(t, m.dir, "web", "RUNNING", in.Pid) // written a settle after RUNNING
	for _, key := range []string{"name", "state", "pid", "worker_pid", "uid", "gid", "umask", "workingdir", "started_at", "exitstatus", "restarts", "error", "updated_at"} {
		if _, ok := st[key]; !ok {
			t.Errorf("state file lacks %q", key)
		}
	}
	if int(st["pid"].(float64)) != in.Pid || st["umask"] != "0027" || int(st["worker_pid"].(float64)) != ppid(t, in.Pid) {
		t.Fatalf("state file: %v", st)
	}
	if _, err := time.Parse(time.RFC3339, st["started_at"].(string)); err != nil {
		t.Fatalf("started_at: %v", err)
	}
	out, code := runBinary(t, "state", "-c", m.cfg)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("pid %d", in.Pid)) || strings.Contains(out, "STALE") {
		t.Fatalf("state while running: %d %q", code, out)
	}
	if mode, _ := os.Stat(filepath.Join(m.dir, "run")); mode.Mode().Perm() != 0o700 {
		t.Fatalf("rundir mode %v", mode.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Join(m.dir, "run", "taskmaster.sock")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v", fi.Mode().Perm())
	}

	m.cmd.Process.Kill()
	m.waitExit(5 * time.Second)
	waitFor(t, 5*time.Second, "workers and jobs gone", func() bool { return len(ours(m.marker)) == 0 })
	st = readStateFile(t, m.dir, "pool:pool_00")
	if st["state"] != "STOPPED" || !strings.Contains(st["error"].(string), "master went away") || st["pid"].(float64) != 0 {
		t.Fatalf("final state: %v", st)
	}
	out, code = runBinary(t, "state", filepath.Join(m.dir, "run"))
	folder, lines := stateOutput(out)
	if code != 0 || len(lines) != 3 || folder != stateFolder(filepath.Join(m.dir, "run"), "") {
		t.Fatalf("state after the crash: %d %q", code, out)
	}
	for _, l := range lines {
		if !strings.Contains(l, "STOPPED") || !strings.Contains(l, "STALE: worker gone") {
			t.Errorf("state line %q", l)
		}
	}
}

// stateOutput splits what `taskmaster state` printed: the folder it read
// (its first line) and a line per state file.
func stateOutput(out string) (folder string, lines []string) {
	lines = strings.Split(strings.TrimSpace(out), "\n")
	folder, ok := strings.CutPrefix(lines[0], "state files in ")
	if !ok {
		return "", lines
	}
	return folder, lines[1:]
}

// A job that forks a grandchild and exits leaves no orphan once its slot
// ends.
func TestNoOrphans(t *testing.T) {
	m := startMaster(t, `
programs:
  forker:
    cmd: "/bin/sh -c 'sleep 1000 & echo $! > child; exit 0'"
    autorestart: never
    starttime: 0
`)
	m.waitState("forker", "EXITED", nil)
	var child int
	waitFor(t, 5*time.Second, "the grandchild's pid", func() bool {
		b, _ := os.ReadFile(filepath.Join(m.dir, "child"))
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return child > 0
	})
	waitFor(t, 5*time.Second, "the grandchild to be killed", func() bool { return !alive(child) })
}

// Zombies never accumulate: a job that kills itself 1000 times leaves no
// zombie under the master or its worker, and the master's fds stay flat.
func TestNoZombiesAfterManyRestarts(t *testing.T) {
	m := startMaster(t, `
programs:
  suicidal:
    cmd: "/bin/sh -c 'kill -9 $$'"
    autorestart: always
    starttime: 0
`)
	waitFor(t, 60*time.Second, "1000 restarts", func() bool {
		in := m.status("suicidal")
		return in.Restarts >= 1000
	})
	out, _ := m.ctl("stop", "suicidal")
	if !strings.Contains(out, "stopped") {
		t.Fatalf("stop: %q", out)
	}
	// A worker or job that just ended may be a zombie for an instant:
	// only one that stays is a leak.
	var z []int
	waitFor(t, 5*time.Second, "no zombies", func() bool {
		z = zombiesUnder(m.cmd.Process.Pid)
		return len(z) == 0
	})
}

// zombiesUnder lists zombie processes whose parent is pid or a child of pid.
func zombiesUnder(pid int) []int {
	var zombies []int
	for _, p := range allPids() {
		st := statFields(p)
		if st == nil || st[0] != "Z" {
			continue
		}
		if pp, _ := strconv.Atoi(st[1]); pp == pid || parentOf(pp) == pid {
			zombies = append(zombies, p)
		}
	}
	return zombies
}

func fdCount(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// 1000 start/stop cycles leave the master with the descriptors it had.
func TestNoFDGrowth(t *testing.T) {
	dir, cfg := writeConfig(t, `
programs:
  cycler:
    cmd: sleep 1000
    starttime: 0
    autostart: false
`)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	m := launchBinary(t, binaryWithoutRace(t), dir, cfg, r, "-c", cfg)
	runBinary(t, "ctl", "-c", cfg, "status") // the control socket has served once
	before := fdCount(m.cmd.Process.Pid)
	const cycles = 1000
	go func() {
		for i := 0; i < cycles; i++ {
			fmt.Fprintf(w, "start cycler\nstop cycler\n")
		}
		fmt.Fprintf(w, "version\n")
	}()
	waitFor(t, 5*time.Minute, "the cycles", func() bool {
		return strings.Count(m.out.String(), "cycler: stopped\n") == cycles && strings.Contains(m.out.String(), "0.1.0")
	})
	if n := strings.Count(m.out.String(), "cycler: started\n"); n != cycles {
		t.Fatalf("%d starts", n)
	}
	// The last worker exits just after its stop is reported.
	waitFor(t, 5*time.Second, fmt.Sprintf("the master back to %d fds", before), func() bool {
		return fdCount(m.cmd.Process.Pid) <= before && len(zombiesUnder(m.cmd.Process.Pid)) == 0
	})
}

// Root only: jobs run as the configured user, and the control socket
// refuses that user even when it can reach the socket.
func TestRunAsUserAndPeerCredentials(t *testing.T) {
	u := testuser.New(t, "fa", testuser.Options{Shell: "/bin/sh"})
	name, uid, gid := u.Name, strconv.Itoa(u.UID), strconv.Itoa(u.GID)
	m := startMaster(t, `
programs:
  web:
    cmd: "/bin/sh -c 'id -un > whoami; exec sleep 1000'"
    user: `+name+`
    workingdir: /tmp
    nonewprivs: true
    starttime: 0
`)
	in := m.waitState("web", "RUNNING", nil)
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.Pid))
	for _, want := range []string{"Uid:\t" + strings.Repeat(uid+"\t", 3) + uid, "Gid:\t" + strings.Repeat(gid+"\t", 3) + gid, "NoNewPrivs:\t1"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("job status lacks %q:\n%s", want, b)
		}
	}
	// Let the user reach the socket: the peer check alone must refuse.
	for d := m.dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	os.Chmod(filepath.Join(m.dir, "run"), 0o755)
	sock := filepath.Join(m.dir, "run", "taskmaster.sock")
	os.Chmod(sock, 0o666)
	out, err := u.Command(binary, "ctl", "-s", sock, "status").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "permission denied") {
		t.Fatalf("ctl as %s: %v %q", name, err, out)
	}
	if !strings.Contains(m.log(), "control: refused uid "+uid) {
		t.Fatalf("refusal not logged")
	}
}
