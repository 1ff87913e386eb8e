package worker

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// startSleeps starts n children of the test process that the test reaps
// itself (reapAll), killed at cleanup if still there.
func startSleeps(t *testing.T, n int) []int {
	t.Helper()
	var pids []int
	for range n {
		p, err := os.StartProcess("/bin/sleep", []string{"sleep", "1000"}, &os.ProcAttr{})
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p.Pid)
		t.Cleanup(func() {
			syscall.Kill(p.Pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			syscall.Wait4(p.Pid, &ws, syscall.WNOHANG, nil)
		})
	}
	return pids
}

// reapAll reaps killed children as they die, and gives up at its
// deadline on one that does not die, without waiting for it any longer.
func TestReapAll(t *testing.T) {
	pids := startSleeps(t, 5)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if !reapAll(append([]int(nil), pids...), time.Now().Add(10*time.Second)) {
		t.Fatal("reapAll gave up on SIGKILLed children")
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Fatalf("child %d not reaped: %v", pid, err)
		}
	}

	alive := startSleeps(t, 1)
	t0 := time.Now()
	if reapAll(alive, time.Now().Add(200*time.Millisecond)) {
		t.Fatal("reapAll reaped a live child")
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("reapAll held on %v past its deadline", d)
	}
}
