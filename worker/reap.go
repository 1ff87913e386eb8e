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
// it. It waits in poll(2) on their pidfds, woken by the exits themselves,
// with deadline as poll's timeout, so a process stuck in the kernel
// cannot hold the worker past it. Without pidfds (Linux before 5.3) it
// polls wait4 with a growing pause.
func reapAll(pids []int, deadline time.Time) bool {
	fds := pidfds(pids)
	defer func() {
		for _, f := range fds {
			if f.Fd >= 0 {
				unix.Close(int(f.Fd))
			}
		}
	}()
	pause := 100 * time.Microsecond
	for {
		left, watched := 0, true
		for i, pid := range pids {
			if pid == 0 {
				continue
			}
			var ws unix.WaitStatus
			if got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == 0 && err == nil {
				left++
				watched = watched && fds[i].Fd >= 0
				continue
			}
			pids[i] = 0
			if fds[i].Fd >= 0 {
				unix.Close(int(fds[i].Fd))
				fds[i].Fd = -1 // poll(2) skips it
			}
		}
		if left == 0 {
			return true
		}
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		if watched {
			unix.Poll(fds, int((d+time.Millisecond-1)/time.Millisecond))
			continue
		}
		time.Sleep(min(pause, d))
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// pidfds opens a pidfd for each of pids, readable once it exits; Fd is -1
// where none could be opened. A child not yet reaped keeps its pid, so
// the pidfd is the child's.
func pidfds(pids []int) []unix.PollFd {
	fds := make([]unix.PollFd, len(pids))
	for i, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			fd = -1
		}
		fds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	return fds
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
