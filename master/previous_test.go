package master

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// startNamed starts `sleep 60` under argv0 name, killed and reaped at
// cleanup.
func startNamed(t *testing.T, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sleep", "60")
	cmd.Args[0] = name
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestWaitPreviousKillsOnlyWorkers plays state files that name processes
// which are not the previous master's workers (a job could leave such a
// record, or a pid be reused): root must neither wait for nor kill them.
// Only a tm-worker whose start time matches its file is waited for and,
// past the bound, killed.
func TestWaitPreviousKillsOnlyWorkers(t *testing.T) {
	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	log, err := OpenEventLog(filepath.Join(t.TempDir(), "log"), RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()

	other := startNamed(t, "sleep")      // not a worker, real start time
	fake := startNamed(t, "tm-worker")   // a worker's name, wrong start time
	worker := startNamed(t, "tm-worker") // the previous master's worker
	write := func(name string, pid int, start uint64, gen int64) {
		if err := statefile.Write(dir, &statefile.State{Name: name, WorkerPid: pid, WorkerStart: start, Generation: gen}); err != nil {
			t.Fatal(err)
		}
	}
	startOf := func(pid int) uint64 {
		s, err := statefile.StartTime(pid)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	write("other", other.Process.Pid, startOf(other.Process.Pid), 3)
	write("fake", fake.Process.Pid, startOf(fake.Process.Pid)+1, 7)
	write("worker", worker.Process.Pid, startOf(worker.Process.Pid), 5)

	begin := time.Now()
	if gen := waitPrevious(dir, log, io.Discard, 200*time.Millisecond, 5*time.Second); gen != 7 {
		t.Errorf("generation = %d, want 7", gen)
	}
	if d := time.Since(begin); d > 4*time.Second {
		t.Errorf("waitPrevious took %s: it waited its grace for a worker it killed", d)
	}
	done := make(chan error, 1)
	go func() { done <- worker.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the previous master's worker was not killed")
	}
	for _, c := range []*exec.Cmd{other, fake} {
		if _, err := statefile.StartTime(c.Process.Pid); err != nil {
			t.Errorf("%s (pid %d) was killed: it is no worker of a previous master", c.Args[0], c.Process.Pid)
		}
	}
}
