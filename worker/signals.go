package worker

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cleanEnv marks a worker that has already re-executed itself to shed
// inherited signal state, so that it does so at most once.
const cleanEnv = "TM_WORKER_CLEAN_SIGNALS"

// startClean makes sure every job starts with default signal dispositions
// and an empty signal mask (issue 10, point 7). A job inherits across fork
// and exec what its worker ignores, and the mask of the thread that forked
// it. The Go runtime resets to default only the signals it catches; it
// leaves SIGHUP and SIGINT, and the job-control signals, ignored when they
// were ignored at start (a master run under nohup, or by a script's `&`),
// and it keeps the blockable signals of the start mask blocked. So when
// this thread's mask or the process's ignored set is not empty, the
// worker resets both with raw system calls and re-executes itself once:
// the runtime then starts clean, and so does every job.
//
// Call it first thing, with the OS thread that will fork jobs locked, and
// after inherited descriptors are marked close-on-exec (the socket on
// SocketFD stays open across the exec).
func startClean() {
	ign, blk, setSize, ok := inheritedSignals()
	if !ok || (ign == 0 && blk == 0) || os.Getenv(cleanEnv) != "" {
		return
	}
	// A kernel sigaction with every field zero is SIG_DFL with no flags
	// and an empty mask, whatever the architecture's field order.
	var dfl [8]uint64
	for sig := 1; sig <= 64; sig++ {
		if ign&(1<<(sig-1)) != 0 {
			unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, setSize, 0, 0)
		}
	}
	unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, nil)
	// Should the exec fail, the worker carries on: the reset alone gives
	// jobs a clean start (a fork copies the forking thread's current
	// mask); only the runtime's own view of the signals is then stale.
	syscall.Exec("/proc/self/exe", os.Args, append(os.Environ(), cleanEnv+"=1"))
}

// inheritedSignals reads the process's ignored signals and the calling
// thread's blocked ones (the first 64 of each), and the kernel's sigset
// size in bytes, from /proc.
func inheritedSignals() (ign, blk uint64, setSize uintptr, ok bool) {
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return 0, 0, 0, false
	}
	found := 0
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		var dst *uint64
		switch k {
		case "SigIgn":
			dst = &ign
		case "SigBlk":
			dst = &blk
		default:
			continue
		}
		// _NSIG bits in hex, highest first.
		v = strings.TrimSpace(v)
		setSize = uintptr(len(v) / 2)
		n, err := strconv.ParseUint(v[max(len(v)-16, 0):], 16, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		*dst = n
		found++
	}
	return ign, blk, setSize, found == 2
}
