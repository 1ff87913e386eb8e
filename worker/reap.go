package worker

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// killDescendants kills whatever the job left behind (a subreaper, the
// worker inherits orphaned grandchildren) and reaps it, so the end of a
// slot leaves no process behind.
func killDescendants() {
	for range 10 {
		kids := children()
		if len(kids) == 0 {
			return
		}
		for _, pid := range kids {
			unix.Kill(-pid, syscall.SIGKILL)
			unix.Kill(pid, syscall.SIGKILL)
		}
		for {
			var ws unix.WaitStatus
			if pid, err := unix.Wait4(-1, &ws, 0, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}

// children lists the worker's child processes.
func children() []int {
	var pids []int
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
