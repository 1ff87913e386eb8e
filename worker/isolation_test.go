package worker

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
)

// statField returns field k (numbered as in proc(5)) of /proc/PID/stat.
func statField(t *testing.T, pid, k int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		t.Fatalf("stat of %d: %v", pid, err)
	}
	f := strings.Fields(string(b[i+1:]))
	v, err := strconv.Atoi(f[k-3])
	if err != nil {
		t.Fatalf("stat of %d field %d: %v", pid, k, err)
	}
	return v
}

// A plain job is a session leader with no controlling terminal (issue 10,
// point 1): it cannot open /dev/tty, let alone push keystrokes into the
// terminal of whoever started the master. Its group is its pid, so
// signalling the group reaches it.
func TestJobHasOwnSession(t *testing.T) {
	w := spawn(t, baseSpec("sleep", "1000"))
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	st := expect[*ipc.Started](w)
	pgid, sid, ttyNr := statField(t, st.Pid, 5), statField(t, st.Pid, 6), statField(t, st.Pid, 7)
	if pgid != st.Pid || sid != st.Pid || ttyNr != 0 {
		t.Fatalf("job %d: pgid %d, session %d, tty_nr %d; want %d, %d, 0", st.Pid, pgid, sid, ttyNr, st.Pid, st.Pid)
	}
	w.send(&ipc.Signal{Signal: int(syscall.SIGTERM)})
	if ex := expect[*ipc.Exited](w); ex.Signal != int(syscall.SIGTERM) {
		t.Fatalf("exit %+v", ex)
	}
}

// leftovers is a job that forks 50 sleeps and exits 1: 40 in its group, 5
// in sessions of their own, 5 daemonised (setsid, then their parent exits,
// so they are reparented to the worker while the job still runs). Each
// pid goes to a file named after the job's before it exits.
const leftovers = `
for i in $(seq 40); do sleep 1000 & echo $! >> "$0/pids.$$"; done
for i in $(seq 5); do setsid sleep 1000 & echo $! >> "$0/pids.$$"; done
for i in $(seq 5); do sh -c 'setsid sleep 1000 & echo $! >> "$0"' "$0/pids.$$" & wait $!; done
exit 1`

// readPids reads the pids a leftovers job wrote.
func readPids(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// Everything a job leaves behind when it exits on its own is killed and
// reaped before its exit is reported (issue 10, point 5), so restarts do
// not pile up orphans: when Exited arrives, no pid it forked exists any
// more, not even as a zombie, and the worker has no child.
func TestExitKillsLeftovers(t *testing.T) {
	dir := t.TempDir()
	w := spawn(t, baseSpec("/bin/sh", "-c", leftovers, dir))
	expect[*ipc.Ready](w)
	defer func() {
		for _, f := range mustGlob(t, filepath.Join(dir, "pids.*")) {
			for _, pid := range readPids(t, f) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}()
	for run := range 3 {
		w.send(&ipc.Start{})
		st := expect[*ipc.Started](w)
		if ex := expect[*ipc.Exited](w); ex.Code != 1 {
			t.Fatalf("run %d: exit %+v", run, ex)
		}
		pids := readPids(t, filepath.Join(dir, fmt.Sprintf("pids.%d", st.Pid)))
		if len(pids) != 50 {
			t.Fatalf("run %d: the job forked %d sleeps, want 50", run, len(pids))
		}
		var left []int
		for _, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				left = append(left, pid)
			}
		}
		if len(left) > 0 {
			t.Fatalf("run %d: %d of the job's 50 children outlived its reported exit: %v", run, len(left), left)
		}
		if kids := childrenOf(w.proc.Pid); len(kids) > 0 {
			t.Fatalf("run %d: the worker still has children %v after reporting the exit", run, kids)
		}
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// childrenOf lists pid's children, from every one of its threads.
func childrenOf(pid int) []string {
	var kids []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	return kids
}

// spawnDirty starts the worker the way `nohup` or a careless parent would:
// SIGHUP, SIGINT, SIGTSTP, SIGTTIN, SIGTTOU and SIGUSR2 ignored, and
// SIGUSR1 blocked.
func spawnDirty(t *testing.T, spec *ipc.Spec) *testWorker {
	t.Helper()
	exe, _ := os.Executable()
	// TestMain knows the worker by argv[0]; sh's exec passes $0 as is.
	link := filepath.Join(t.TempDir(), "tm-worker")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return spawnWith(t, spec, func(child *os.File) (*os.Process, error) {
		// A child of a Go program starts with the mask of the thread
		// that forked it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set, old unix.Sigset_t
		set.Val[0] = 1 << (syscall.SIGUSR1 - 1)
		if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
			return nil, err
		}
		defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
		return os.StartProcess("/bin/sh", []string{"sh", "-c", `trap "" HUP INT TSTP TTIN TTOU USR2; exec "$0" "$@"`, link, spec.Name}, &os.ProcAttr{
			Env:   []string{"GORACE=atexit_sleep_ms=0"},
			Files: []*os.File{nil, nil, os.Stderr, child},
		})
	})
}

// startJob spawns a worker for spec, clean or dirty (see spawnDirty), and
// has it start the job.
func startJob(t *testing.T, spec *ipc.Spec, dirty bool) (*testWorker, *ipc.Started) {
	t.Helper()
	var w *testWorker
	if dirty {
		w = spawnDirty(t, spec)
	} else {
		w = spawn(t, spec)
	}
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	return w, expect[*ipc.Started](w)
}

// Every job starts with default dispositions and an empty signal mask
// (issue 10, point 7), plain or on a tty, whatever the worker inherited.
func TestJobSignalsStartDefault(t *testing.T) {
	for _, dirty := range []bool{false, true} {
		for _, tty := range []bool{false, true} {
			t.Run(fmt.Sprintf("dirty=%v,tty=%v", dirty, tty), func(t *testing.T) {
				spec := baseSpec("sleep", "1000")
				spec.TTY = tty
				w, st := startJob(t, spec, dirty)
				for _, key := range []string{"SigIgn", "SigBlk"} {
					if v := procStatus(t, st.Pid, key); v != "0000000000000000" {
						t.Errorf("job %s %s, want none", key, v)
					}
				}
				w.send(&ipc.Quit{})
				expect[*ipc.Exited](w)
			})
		}
	}
}

// A shell job can trap SIGHUP, and a SIGHUP sent to it runs the trap, even
// from a worker started with SIGHUP ignored.
func TestShellJobTrapsHUP(t *testing.T) {
	for _, dirty := range []bool{false, true} {
		t.Run(fmt.Sprintf("dirty=%v", dirty), func(t *testing.T) {
			dir := t.TempDir()
			ready, got := filepath.Join(dir, "ready"), filepath.Join(dir, "got")
			spec := baseSpec("/bin/sh", "-c", `trap "echo hup > $1" HUP; touch $0; while :; do sleep 0.05; done`, ready, got)
			w, _ := startJob(t, spec, dirty)
			waitFile(t, ready)
			w.send(&ipc.Signal{Signal: int(syscall.SIGHUP)})
			if b := waitContent(t, got, 4); string(b) != "hup\n" {
				t.Fatalf("the job's HUP trap did not run: %q", b)
			}
			w.send(&ipc.Quit{})
			expect[*ipc.Exited](w)
		})
	}
}
