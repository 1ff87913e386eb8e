package master

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// previousPoll is how often a new master looks whether the workers of a
// previous one are gone.
const previousPoll = 50 * time.Millisecond

// waitPrevious waits for the workers a previous master left running on
// this rundir (it was killed: each sees EOF, stops its job by its stop
// settings and exits), so that no slot ever has two jobs and no old
// worker's last write lands on a new worker's state file. They are found
// by their state files' worker_pid, checked to be a live tm-worker that
// started when the file says (a reused pid is not waited for). Past bound
// they are SIGKILLed (their jobs die with them), and a grace later the
// master starts anyway, saying so. It returns the highest state-file
// generation seen, for this master to write above.
func waitPrevious(dir *os.File, log *EventLog, stderr io.Writer, bound, grace time.Duration) int64 {
	var gen int64
	var live []statefile.State
	states, _, _ := statefile.ReadAt(dir)
	for _, st := range states {
		gen = max(gen, st.Generation)
		if st.WorkerAlive() {
			live = append(live, st)
		}
	}
	if len(live) == 0 {
		return gen
	}
	say := func(level, msg string) {
		log.Logf(level, "%s", msg)
		fmt.Fprintf(stderr, "taskmaster: %s\n", msg)
	}
	say("WARN", fmt.Sprintf("waiting for the workers of a previous taskmaster to stop their jobs: %s", workerList(live)))
	deadline := time.Now().Add(bound)
	killed := false
	for {
		live = slices.DeleteFunc(live, func(st statefile.State) bool { return !st.WorkerAlive() })
		if len(live) == 0 {
			log.Logf("INFO", "the previous taskmaster's workers are gone")
			return gen
		}
		if time.Now().After(deadline) {
			if killed {
				say("ERROR", fmt.Sprintf("starting although workers of a previous taskmaster remain: %s", workerList(live)))
				return gen
			}
			say("WARN", fmt.Sprintf("killing workers of a previous taskmaster still there after %s: %s", bound, workerList(live)))
			for _, st := range live {
				killWorker(st)
			}
			killed, deadline = true, time.Now().Add(grace)
		}
		time.Sleep(previousPoll)
	}
}

// killWorker SIGKILLs the worker st names if it is still that worker. The
// pid is pinned by a pidfd before it is checked: a pid freed and reused
// between the check and the kill is never signalled (the pidfd then
// names the dead worker, and the kill does nothing).
func killWorker(st statefile.State) {
	fd, err := unix.PidfdOpen(st.WorkerPid, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if st.WorkerAlive() {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

func workerList(states []statefile.State) string {
	var parts []string
	for _, st := range states {
		parts = append(parts, fmt.Sprintf("%s (pid %d)", st.Name, st.WorkerPid))
	}
	return strings.Join(parts, ", ")
}
