package master

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/config"
)

// fdFixed is what the master holds besides one descriptor per process and
// the three a spawn in flight holds for a moment (a socketpair and the
// dup net.FileConn makes; GOMAXPROCS spawns at most): stdio, the event
// log, the rundir, its pid file and workers folder, the two listening
// sockets, the poller and its eventfd, /dev/null, the runtime's cgroup
// files (12 measured), and a client or two being served.
const fdFixed = 14

// fdReserve is what the master needs besides one descriptor per process.
func fdReserve() uint64 { return fdFixed + 3*uint64(runtime.GOMAXPROCS(0)) }

// FDBudget is what RLIMIT_NOFILE lets a master run: it holds one descriptor
// per process (the worker's socket) and fdReserve more.
//
// The soft limit is raised already: Go's runtime raises it at start to one
// below the hard limit (supervisord's minfds raises its own alike), and
// gives every child the soft limit the master was started with, so workers
// and jobs get the limit of the environment that started taskmaster, never
// the raised one (supervisord's children inherit its raised limit). The
// runtime restores it only while the soft limit is still its own (hard - 1):
// raising it that last one more would hand the raised limit to every job.
type FDBudget struct {
	Limit     uint64 // the master's soft RLIMIT_NOFILE, as raised
	Processes int    // processes the config has
	Allowed   int    // processes the limit allows
}

// CheckFDBudget measures cfg against this process's RLIMIT_NOFILE.
func CheckFDBudget(cfg *config.Config) (FDBudget, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return FDBudget{}, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	b := FDBudget{Limit: lim.Cur}
	reserve := fdReserve()
	for _, p := range cfg.Programs {
		b.Processes += max(p.NumProcs, 1)
	}
	switch {
	case lim.Cur <= reserve:
	case lim.Cur == unix.RLIM_INFINITY || lim.Cur-reserve >= uint64(b.Processes):
		b.Allowed = b.Processes
	default:
		b.Allowed = int(lim.Cur - reserve)
	}
	return b, nil
}

// Short says the limit does not let every process of the config run.
func (b FDBudget) Short() bool { return b.Allowed < b.Processes }

// Warning is the text for a Short budget.
func (b FDBudget) Warning() string {
	return fmt.Sprintf("the open files limit (RLIMIT_NOFILE %d) lets the master run %d processes, the config has %d: "+
		"the others fail to spawn; raise the limit (ulimit -n, systemd's LimitNOFILE=) to at least %d",
		b.Limit, b.Allowed, b.Processes, uint64(b.Processes)+fdReserve())
}
