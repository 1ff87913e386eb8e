package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker/testuser"
)

// jobUser returns the `user:` line that runs a job as a throwaway user
// when the tests run as root, and that user's uid; it removes the user at
// cleanup (register it before anything the user runs, so it goes last).
// Not root, it returns "" and the tests' own uid: a job of the same user
// is in the master's session all the same.
func jobUser(t *testing.T) (line string, uid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Log("not root: the job runs as the tests' own user")
		return "", os.Getuid()
	}
	u := testuser.New(t, "iso", testuser.Options{Home: "/nonexistent"})
	return "    user: " + u.Name + "\n", u.UID
}

// attackScript is the job of a user who wants root's terminal: it tries
// to open /dev/tty and, on it and on 0, 1 and 2, to take the terminal's
// foreground (tcsetpgrp, then hand it back) and to push argv[2] and a
// newline into its input (TIOCSTI). It writes what happened to
// argv[1]/report, then sleeps in the same process.
const attackScript = `import errno, fcntl, os, signal, sys, termios
drop, text = sys.argv[1], sys.argv[2].encode() + b"\n"
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
lines = []
def attempt(what, f):
    try:
        f()
        lines.append(what + ": done")
    except OSError as e:
        lines.append(what + ": " + errno.errorcode.get(e.errno, str(e.errno)))
fds = [0, 1, 2]
def open_tty():
    fds.insert(0, os.open("/dev/tty", os.O_RDWR))
def steal(fd):
    fg = os.tcgetpgrp(fd)
    os.tcsetpgrp(fd, os.getpgrp())
    os.tcsetpgrp(fd, fg)
def inject(fd):
    for c in text:
        fcntl.ioctl(fd, termios.TIOCSTI, bytes([c]))
attempt("open /dev/tty", open_tty)
for fd in fds:
    attempt("tcsetpgrp %d" % fd, lambda: steal(fd))
    attempt("TIOCSTI %d" % fd, lambda: inject(fd))
with open(drop + "/report.tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
os.rename(drop + "/report.tmp", drop + "/report")
os.execvp("sleep", ["sleep", "1000"])
`

// attackSetup writes the attacker's job into a new master folder: the
// script, a folder the job's user owns for its report, and a config that
// runs it. It returns the folder, the config and the file that the
// injected command would create.
func attackSetup(t *testing.T, userLine string, uid int) (dir, cfg, pwned string) {
	t.Helper()
	dir, cfg = writeConfig(t, `
programs:
  intruder:
    cmd: "python3 {{DIR}}/attack.py {{DIR}}/drop 'id > {{DIR}}/PWNED'"
    autorestart: never
    starttime: 0
`+userLine)
	// The job's user must reach the script and its folder.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	if err := os.WriteFile(filepath.Join(dir, "attack.py"), []byte(attackScript), 0o644); err != nil {
		t.Fatal(err)
	}
	drop := filepath.Join(dir, "drop")
	if err := os.Mkdir(drop, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(drop, uid, -1); err != nil {
		t.Fatal(err)
	}
	return dir, cfg, filepath.Join(dir, "PWNED")
}

// attackReport waits for the report of the job of uid and checks that it
// could neither open /dev/tty nor use any of its descriptors as a
// terminal.
func attackReport(t *testing.T, dir string, uid int) {
	t.Helper()
	path := filepath.Join(dir, "drop", "report")
	var b []byte
	waitFor(t, 20*time.Second, "the job's report", func() bool {
		b, _ = os.ReadFile(path)
		return len(b) > 0
	})
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil || int(st.Uid) != uid {
		t.Fatalf("the report is not the job user's (%d): %+v %v", uid, st.Uid, err)
	}
	report := string(b)
	t.Logf("the job tried:\n%s", report)
	if !strings.Contains(report, "open /dev/tty: ENXIO") || strings.Contains(report, ": done") {
		t.Errorf("the job reached a terminal:\n%s", report)
	}
}

// children lists the live children of pid.
func childrenOf(pid int) []int {
	var kids []int
	for _, p := range allPids() {
		if alive(p) && parentOf(p) == pid {
			kids = append(kids, p)
		}
	}
	return kids
}

// checkSessions checks that every worker of master, and every job of
// theirs, leads a session other than the master's and has no controlling
// terminal.
func checkSessions(t *testing.T, master int) {
	t.Helper()
	sid := statFields(master)[3]
	var jobs int
	for _, w := range childrenOf(master) {
		procs := append([]int{w}, childrenOf(w)...)
		jobs += len(procs) - 1
		for _, p := range procs {
			// proc(5): field 6 is the session, field 7 the tty.
			if f := statFields(p); f != nil && (f[3] == sid || f[4] != "0") {
				t.Errorf("process %d (worker %d): session %s, tty_nr %s; master's session %s", p, w, f[3], f[4], sid)
			}
		}
	}
	if jobs == 0 {
		t.Errorf("no job under master %d", master)
	}
}

// foreground returns the foreground process group of the pty.
func foreground(t *testing.T, p *ptyProc) int {
	t.Helper()
	pgrp, err := unix.IoctlGetInt(int(p.ptmx.Fd()), unix.TIOCGPGRP)
	if err != nil {
		t.Fatal(err)
	}
	return pgrp
}

// A job cannot type into the master's interactive shell (issue 10, point
// 1): with the master on a terminal, a job of another user tries TIOCSTI
// and tcsetpgrp; nothing reaches the shell's input, the master keeps the
// foreground, and workers and jobs have sessions of their own and no
// terminal.
func TestJobCannotTypeIntoMasterShell(t *testing.T) {
	userLine, uid := jobUser(t)
	dir, cfg, pwned := attackSetup(t, userLine, uid)
	marker := fmt.Sprintf("TM_TEST_MARKER=iso-shell-%d", time.Now().UnixNano())
	t.Cleanup(func() { killLeftovers(marker) })
	p := startOnPTY(t, dir, []string{marker}, "-c", cfg)
	p.expect(prompt)
	attackReport(t, dir, uid)
	// Whatever was pushed into the input is read before what follows.
	p.send("status intruder\r")
	p.expectRE(`intruder\s+RUNNING`)
	p.expect(prompt)
	if strings.Contains(p.out.String(), "PWNED") {
		t.Errorf("the job's keystrokes reached the master's shell")
	}
	if fg := foreground(t, p); fg != p.cmd.Process.Pid {
		t.Errorf("foreground group %d, want the master's %d", fg, p.cmd.Process.Pid)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Errorf("the injected command ran")
	}
	checkSessions(t, p.cmd.Process.Pid)
}

// The same attack on `taskmaster --no-shell &` started from root's
// interactive bash: the job must not make bash run `id > FILE`.
func TestJobCannotTypeIntoParentShell(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("SKIP: no bash")
	}
	userLine, uid := jobUser(t)
	dir, cfg, pwned := attackSetup(t, userLine, uid)
	marker := fmt.Sprintf("TM_TEST_MARKER=iso-bash-%d", time.Now().UnixNano())
	bash := exec.Command("bash", "--norc", "--noprofile", "-i")
	bash.Dir = dir
	bash.Env = append(os.Environ(), "PS1=tmiso$ ", "HISTFILE=/dev/null", "TERM=dumb", "GORACE=atexit_sleep_ms=0", marker)
	p := runOnPTY(t, bash)
	var master int
	t.Cleanup(func() {
		if master != 0 {
			syscall.Kill(master, syscall.SIGTERM)
			deadline := time.Now().Add(15 * time.Second)
			for alive(master) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		killLeftovers(marker)
		// An interactive bash ignores SIGTERM.
		bash.Process.Kill()
	})
	p.expect("tmiso$ ")
	p.send(binary + " -c " + cfg + " --no-shell &\n")
	waitFor(t, 10*time.Second, "the master", func() bool {
		for _, pid := range childrenOf(bash.Process.Pid) {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == binary {
				master = pid
			}
		}
		return master != 0
	})
	attackReport(t, dir, uid)
	// bash reads what was pushed into its input before this line.
	p.send("echo SENTINEL_$((40+2))\n")
	p.expect("SENTINEL_42")
	p.expect("tmiso$ ")
	if _, err := os.Stat(pwned); err == nil {
		t.Errorf("the job made root's bash run its command")
	}
	if strings.Contains(p.out.String(), "PWNED") {
		t.Errorf("the job's keystrokes reached bash")
	}
	if fg := foreground(t, p); fg != bash.Process.Pid {
		t.Errorf("foreground group %d, want bash's %d", fg, bash.Process.Pid)
	}
	checkSessions(t, master)
}

// A job that forks 50 children and exits, restarted again and again,
// leaves no child behind (issue 10, point 5): the worker kills them before
// it reports the exit, so at no time do more than one run's children
// live, and none of an ended run's.
func TestRestartsLeaveNoOrphans(t *testing.T) {
	dir, cfg := writeConfig(t, `
programs:
  forker:
    cmd: "/bin/sh {{DIR}}/forker.sh {{DIR}}"
    autorestart: always
    starttime: 0
`)
	if err := os.WriteFile(filepath.Join(dir, "forker.sh"), []byte(forkerScript), 0o644); err != nil {
		t.Fatal(err)
	}
	m := launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
	t.Cleanup(func() {
		files, _ := filepath.Glob(filepath.Join(dir, "pids.*"))
		for _, f := range files {
			for _, pid := range readPidFile(f) {
				if isOurSleep(m.marker, pid) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	})
	sleeps := func() int {
		n := 0
		for _, pid := range ours(m.marker) {
			if isOurSleep(m.marker, pid) {
				n++
			}
		}
		return n
	}
	waitFor(t, 60*time.Second, "5 restarts", func() bool {
		now := m.status("forker")
		if n := sleeps(); n > 50 {
			t.Fatalf("%d sleeps alive after %d restarts: one run forks 50", n, now.Restarts)
		}
		if now.Pid != 0 {
			checkEndedRuns(t, dir, m.marker, now.Pid)
		}
		return now.Restarts >= 5
	})
	if out, _ := m.ctl("stop", "forker"); !strings.Contains(out, "stopped") {
		t.Fatalf("stop: %q", out)
	}
	waitFor(t, 5*time.Second, "no sleep left", func() bool { return sleeps() == 0 })
}

// checkEndedRuns fails if a child of a run that ended before the run of
// job current still lives. Pids are reused (pid_max may be 32768): a live
// pid counts only if it is one of our sleeps that started no later than
// current and is not listed by current's run.
func checkEndedRuns(t *testing.T, dir, marker string, current int) {
	t.Helper()
	since := statFields(current)
	if since == nil {
		return // current ended meanwhile: the next look checks it
	}
	mine := map[int]bool{}
	for _, pid := range readPidFile(filepath.Join(dir, fmt.Sprintf("pids.%d", current))) {
		mine[pid] = true
	}
	files, _ := filepath.Glob(filepath.Join(dir, "pids.*"))
	for _, f := range files {
		if f == filepath.Join(dir, fmt.Sprintf("pids.%d", current)) {
			continue
		}
		for _, pid := range readPidFile(f) {
			// proc(5) field 22: the start time, in clock ticks.
			if st := statFields(pid); st != nil && !mine[pid] && isOurSleep(marker, pid) && startTime(st) <= startTime(since) {
				t.Fatalf("child %d of the ended run %s outlives it", pid, filepath.Ext(f)[1:])
			}
		}
	}
}

func startTime(stat []string) int64 {
	n, _ := strconv.ParseInt(stat[22-3], 10, 64)
	return n
}

// isOurSleep says whether pid is a live sleep carrying marker.
func isOurSleep(marker string, pid int) bool {
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return alive(pid) && string(comm) == "sleep\n" && strings.Contains(string(env), marker)
}

// forkerScript forks 50 sleeps and exits 1: 40 in its group, 5 in
// sessions of their own, 5 daemonised (setsid, and their parent exits at
// once). It lists their pids in $1/pids.$$.
const forkerScript = `for i in $(seq 40); do sleep 1000 & echo $! >> "$1/pids.$$"; done
for i in $(seq 5); do setsid sleep 1000 & echo $! >> "$1/pids.$$"; done
for i in $(seq 5); do sh -c 'setsid sleep 1000 & echo $! >> "$0"' "$1/pids.$$" & wait $!; done
exit 1
`

func readPidFile(path string) []int {
	b, _ := os.ReadFile(path)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Jobs start with default signal dispositions and an empty mask even when
// the master was started with SIGHUP ignored (nohup) and SIGUSR1 blocked
// (issue 10, point 7): a shell job's HUP trap runs on `signal HUP`, and
// /proc shows nothing ignored or blocked, for a plain job and a tty one.
func TestJobSignalsFromNohupMaster(t *testing.T) {
	dir, cfg := writeConfig(t, `
programs:
  trap:
    cmd: "/bin/sh -c 'trap \"echo hup > {{DIR}}/got\" HUP; while :; do sleep 0.05; done'"
    starttime: 0
  term:
    cmd: "sleep 1000"
    tty: true
    starttime: 0
`)
	var m *tmaster
	func() {
		// A child of a Go program starts with the forking thread's mask.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set, old unix.Sigset_t
		set.Val[0] = 1 << (syscall.SIGUSR1 - 1)
		if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
			t.Fatal(err)
		}
		defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
		m = launchBinary(t, "/bin/sh", dir, cfg, nil, "-c", `trap "" HUP; exec "$0" "$@"`, binary, "-c", cfg, "--no-shell")
	}()
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid)); strings.Contains(string(b), "\nSigBlk:\t0000000000000000\n") {
		t.Fatalf("the master did not start with SIGUSR1 blocked")
	}
	for _, name := range []string{"trap", "term"} {
		pid := m.waitState(name, "RUNNING", nil).Pid
		// dash blocks every signal for a moment around each fork (the
		// trap job forks sleep 20 times a second): an inherited mask
		// never clears, that one does.
		var b []byte
		clean := func() bool {
			b, _ = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			return strings.Contains(string(b), "\nSigIgn:\t0000000000000000\n") &&
				strings.Contains(string(b), "\nSigBlk:\t0000000000000000\n")
		}
		deadline := time.Now().Add(2 * time.Second)
		for !clean() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if !clean() {
			t.Errorf("%s: job has signals ignored or blocked, want none:\n%s", name, b)
		}
	}
	if out, code := m.ctl("signal", "HUP", "trap"); code != 0 {
		t.Fatalf("signal: %q", out)
	}
	waitFor(t, 5*time.Second, "the job's HUP trap", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "got"))
		return string(b) == "hup\n"
	})
}
