package worker

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// killTimeout bounds the wait for what a job left behind to die once
// SIGKILLed. Only a process stuck in the kernel (D state) takes longer;
// the worker then carries on and reaps it whenever it goes.
const killTimeout = 2 * time.Second

// killDescendants kills and reaps every process the job left behind. The
// worker is a subreaper, so each of them is its child or the descendant
// of one: it kills its children (and their groups), reaps them, and
// starts again on the ones that their death reparented to it, until it
// has no child left. It returns false if some still lived after within.
func killDescendants(within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		// A job that left nothing is the usual case: one wait4 says the
		// worker has no child, without reading a children file per
		// thread (a restart paid ~60 syscalls for them).
		if !hasChildren() {
			return true
		}
		kids := children()
		for _, pid := range kids {
			unix.Kill(-pid, syscall.SIGKILL)
			unix.Kill(pid, syscall.SIGKILL)
		}
		if !reapAll(kids, deadline) || time.Now().After(deadline) {
			return false
		}
	}
}

// hasChildren says whether the worker has a child: the children files
// may miss one that is being created or reparented as they are read
// (proc(5)), wait4 does not. A zombie it finds, it reaps: the callers
// want every child reaped.
func hasChildren() bool {
	var ws unix.WaitStatus
	_, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
	return !errors.Is(err, unix.ECHILD)
}

// reapAll waits for each of pids (SIGKILLed children) to exit and reaps
// it. It polls rather than blocks, so a process stuck in the kernel cannot
// hold the worker past deadline.
func reapAll(pids []int, deadline time.Time) bool {
	pause := 100 * time.Microsecond
	for {
		left := pids[:0]
		for _, pid := range pids {
			var ws unix.WaitStatus
			if got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == 0 && err == nil {
				left = append(left, pid)
			}
		}
		pids = left
		if len(pids) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// children lists the worker's child processes. A child may be listed
// under any of the worker's threads: a reparented orphan goes to
// whichever thread the kernel picks.
func children() []int {
	var pids []int
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b := readProcFile("/proc/self/task/" + t.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// readProcFile reads a small /proc file with plain system calls: open,
// read, close, where os.ReadFile also tries to register the descriptor
// with the poller (fcntl, epoll_ctl, fstat), six calls more per file.
func readProcFile(path string) []byte {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			return out
		}
		out = append(out, buf[:n]...)
	}
}
