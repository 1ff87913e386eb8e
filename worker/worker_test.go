package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
)

// TestMain makes the test binary a worker when re-exec'd as tm-worker, so
// the tests run the real entry path.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "tm-worker" {
		Main()
	}
	os.Exit(m.Run())
}

// testWorker is a tm-worker process and the master's end of its socket.
type testWorker struct {
	t    *testing.T
	conn *ipc.Conn
	proc *os.Process
	done chan struct{} // closed when the worker has been reaped
	st   *os.ProcessState
}

// exit waits for the worker to end and returns how it ended.
func (w *testWorker) exit() *os.ProcessState {
	w.t.Helper()
	select {
	case <-w.done:
		return w.st
	case <-time.After(10 * time.Second):
		w.t.Fatal("worker did not exit")
	}
	return nil
}

func spawn(t *testing.T, spec *ipc.Spec) *testWorker {
	t.Helper()
	exe, _ := os.Executable()
	return spawnWith(t, spec, func(child *os.File) (*os.Process, error) {
		return os.StartProcess(exe, []string{"tm-worker", spec.Name}, &os.ProcAttr{
			Env:   []string{"GORACE=atexit_sleep_ms=0"},
			Files: []*os.File{nil, nil, os.Stderr, child},
		})
	})
}

// spawnWith is spawn with the worker process started by start, which gets
// the worker's end of the socket for its fd 3.
func spawnWith(t *testing.T, spec *ipc.Spec, start func(child *os.File) (*os.Process, error)) *testWorker {
	t.Helper()
	conn, child, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	proc, err := start(child)
	child.Close()
	if err != nil {
		t.Fatal(err)
	}
	w := &testWorker{t: t, conn: conn, proc: proc, done: make(chan struct{})}
	go func() {
		w.st, _ = proc.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		conn.Close()
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
			proc.Kill()
		}
	})
	if spec.Env == nil {
		spec.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	}
	w.send(spec)
	return w
}

func (w *testWorker) send(m ipc.Message) {
	w.t.Helper()
	if err := w.conn.Send(m, time.Second); err != nil {
		w.t.Fatal(err)
	}
}

func (w *testWorker) recv() ipc.Message {
	w.t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, _, err := w.conn.Recv()
	if err != nil {
		w.t.Fatalf("recv: %v", err)
	}
	return m
}

func expect[T ipc.Message](w *testWorker) T {
	w.t.Helper()
	m := w.recv()
	v, ok := m.(T)
	if !ok {
		w.t.Fatalf("got %s %+v, want %T", m.Kind(), m, v)
	}
	return v
}

func baseSpec(argv ...string) *ipc.Spec {
	return &ipc.Spec{Name: "test", Argv: argv, Umask: -1, UID: -1, GID: -1, StopSignal: 15, StopTimeMs: 5000}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}

func procStatus(t *testing.T, pid int, key string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	t.Fatalf("no %s in status of %d", key, pid)
	return ""
}

func TestStartKillRestart(t *testing.T) {
	w := spawn(t, baseSpec("sleep", "1000"))
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	first := expect[*ipc.Started](w)
	if procStatus(t, first.Pid, "PPid") != strconv.Itoa(w.proc.Pid) {
		t.Fatalf("job's parent is not the worker")
	}
	if pgid, _ := syscall.Getpgid(first.Pid); pgid != first.Pid {
		t.Fatalf("job not in its own process group: pgid %d", pgid)
	}
	syscall.Kill(first.Pid, syscall.SIGKILL)
	ex := expect[*ipc.Exited](w)
	if ex.Pid != first.Pid || ex.Code != -1 || ex.Signal != 9 || ex.Killed {
		t.Fatalf("exit %+v", ex)
	}
	// The same worker runs the job again: a restart is a fork/exec.
	w.send(&ipc.Start{})
	second := expect[*ipc.Started](w)
	if second.Pid == first.Pid || procStatus(t, second.Pid, "PPid") != strconv.Itoa(w.proc.Pid) {
		t.Fatalf("restart: %+v", second)
	}
	w.send(&ipc.Quit{})
	ex = expect[*ipc.Exited](w)
	if ex.Signal != 15 {
		t.Fatalf("quit stopped the job with %+v", ex)
	}
	if st := w.exit(); st.ExitCode() != 0 {
		t.Fatalf("worker exit %v", st)
	}
}

func TestExitCode(t *testing.T) {
	w := spawn(t, baseSpec("/bin/sh", "-c", "exit 7"))
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	expect[*ipc.Started](w)
	if ex := expect[*ipc.Exited](w); ex.Code != 7 || ex.Signal != 0 {
		t.Fatalf("exit %+v", ex)
	}
}

// waitFile polls for a file a job writes once it is ready.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitContent polls until path holds at least n bytes, and returns them.
func waitContent(t *testing.T, path string, n int) []byte {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if len(b) >= n || time.Now().After(deadline) {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	w := spawn(t, baseSpec("/bin/sh", "-c", `trap "" TERM; touch `+ready+`; while :; do sleep 0.05; done`))
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	st := expect[*ipc.Started](w)
	waitFile(t, ready)
	begin := time.Now()
	w.send(&ipc.Stop{Signal: 15, TimeoutMs: 300})
	ex := expect[*ipc.Exited](w)
	if !ex.Killed || ex.Signal != 9 || ex.Pid != st.Pid {
		t.Fatalf("exit %+v", ex)
	}
	if took := time.Since(begin); took < 300*time.Millisecond {
		t.Fatalf("killed after %s, before the timeout", took)
	}
}

// A stop reaches the whole process group: no grandchild survives.
func TestStopKillsGrandchildren(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "child")
	w := spawn(t, baseSpec("/bin/sh", "-c", "sleep 1000 & echo $! > "+pidfile+"; wait"))
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	expect[*ipc.Started](w)
	var child int
	deadline := time.Now().Add(5 * time.Second)
	for child == 0 && time.Now().Before(deadline) {
		b, _ := os.ReadFile(pidfile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(5 * time.Millisecond)
	}
	if !alive(child) {
		t.Fatalf("no grandchild")
	}
	w.send(&ipc.Stop{Signal: 15, TimeoutMs: 5000})
	expect[*ipc.Exited](w)
	for time.Now().Before(deadline) && alive(child) {
		time.Sleep(5 * time.Millisecond)
	}
	if alive(child) {
		syscall.Kill(child, syscall.SIGKILL)
		t.Fatalf("grandchild %d survived the stop", child)
	}
}

func TestSpawnErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("data"), 0o644)
	for argv0, want := range map[string]string{
		"/nope/missing":     "can't find command '/nope/missing'",
		"no-such-command-x": "can't find command 'no-such-command-x'",
		plain:               "command at '" + plain + "' is not executable",
	} {
		w := spawn(t, baseSpec(argv0))
		expect[*ipc.Ready](w)
		w.send(&ipc.Start{})
		if se := expect[*ipc.SpawnError](w); se.Reason != want {
			t.Errorf("%s: %q, want %q", argv0, se.Reason, want)
		}
	}
}

func TestSetupFailure(t *testing.T) {
	spec := baseSpec("true")
	spec.Stdout = "/nonexistent/dir/out.log"
	w := spawn(t, spec)
	f := expect[*ipc.Failed](w)
	if !strings.Contains(f.Reason, "open stdout /nonexistent/dir/out.log") {
		t.Fatalf("reason %q", f.Reason)
	}
	if st := w.exit(); st.ExitCode() != exitSetup {
		t.Fatalf("worker exit %d, want %d", st.ExitCode(), exitSetup)
	}
}

// When the master's end closes, the worker stops its job and exits.
func TestMasterGoneStopsJob(t *testing.T) {
	w := spawn(t, baseSpec("sleep", "1000"))
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	st := expect[*ipc.Started](w)
	w.conn.Close()
	if ps := w.exit(); ps.ExitCode() != 0 {
		t.Fatalf("worker exit %v", ps)
	}
	if alive(st.Pid) {
		t.Fatalf("job %d survived its worker", st.Pid)
	}
}

func TestJobSettings(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	spec := baseSpec("/bin/sh", "-c", `echo "$A $B"; umask; pwd; ls /proc/self/fd | tr '\n' ' '`)
	spec.Env = []string{"PATH=/usr/bin:/bin", "A=master", "B=master"}
	spec.JobEnv = []string{"B=config"}
	spec.Umask = 0o27
	spec.Dir = dir
	spec.Stdout = out
	w := spawn(t, spec)
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	expect[*ipc.Started](w)
	expect[*ipc.Exited](w)
	b, _ := os.ReadFile(out)
	// ls's own directory fd is 3.
	want := fmt.Sprintf("master config\n0027\n%s\n0 1 2 3 ", dir)
	if string(b) != want {
		t.Fatalf("job saw %q, want %q", b, want)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o640 {
		t.Fatalf("stdout mode %v", fi.Mode().Perm())
	}
}

// The job dies with its worker (PR_SET_PDEATHSIG).
func TestJobDiesWithWorker(t *testing.T) {
	w := spawn(t, baseSpec("sleep", "1000"))
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	st := expect[*ipc.Started](w)
	w.proc.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for alive(st.Pid) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if alive(st.Pid) {
		syscall.Kill(st.Pid, syscall.SIGKILL)
		t.Fatalf("job %d outlived its worker", st.Pid)
	}
}

// Every fork happens on the thread that set the worker up, although the
// loop that orders it runs on another: PR_SET_NO_NEW_PRIVS, like
// PR_SET_PDEATHSIG's parent, is the forking thread's, so a job forked
// from any other thread would run without it.
func TestJobsForkedFromSetupThread(t *testing.T) {
	spec := baseSpec("sleep", "1000")
	spec.NoNewPrivs = true
	w := spawn(t, spec)
	expect[*ipc.Ready](w)
	for run := range 3 {
		w.send(&ipc.Start{})
		st := expect[*ipc.Started](w)
		if got := procStatus(t, st.Pid, "NoNewPrivs"); got != "1" {
			t.Errorf("run %d: job's NoNewPrivs is %s: forked from another thread than the one that set up", run, got)
		}
		syscall.Kill(st.Pid, syscall.SIGKILL)
		expect[*ipc.Exited](w)
	}
	w.send(&ipc.Quit{})
	w.exit()
}
