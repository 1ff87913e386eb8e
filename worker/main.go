package worker

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/pacer"
	"github.com/taskmaster/taskmaster/worker/statefile"
)

// Exit codes of the worker process itself, distinct from any job's.
const (
	exitOK       = 0
	exitSetup    = 3 // set-up failed; reported to the master as Failed
	exitProtocol = 4 // no usable spec or socket
)

// SocketFD is where the master puts the worker's end of the socketpair.
const SocketFD = 3

// Main is the worker's entry. Call it first thing in main when argv[0] is
// "tm-worker"; it never returns.
func Main() {
	// PR_SET_PDEATHSIG fires when the parent *thread* exits: every fork
	// happens on this goroutine, pinned to a thread that lives until exit.
	runtime.LockOSThread()
	// Anything inherited beyond the socket must not reach a job.
	unix.CloseRange(SocketFD+1, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	// Nor any ignored signal or blocked mask: this may re-exec the worker.
	startClean()
	// GOGC=25's pacing (1 MiB of growth at least) without the GC forced
	// every 2 minutes: an idle worker wakes only for sysmon (issue 12).
	pacer.Start(25, 1<<20)
	os.Exit(run())
}

func run() int {
	conn, err := ipc.FileConn(os.NewFile(SocketFD, "master"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "tm-worker: %v\n", err)
		return exitProtocol
	}
	spec, err := readSpec(conn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tm-worker: %v\n", err)
		return exitProtocol
	}
	w, err := setup(spec)
	if err != nil {
		conn.Send(&ipc.Failed{Reason: err.Error()}, time.Second)
		return exitSetup
	}
	w.conn = conn
	if err := conn.Send(&ipc.Ready{UID: os.Getuid(), GID: os.Getgid()}, 0); err != nil {
		return exitProtocol
	}
	code := w.serve() // the loop's first flush writes the Ready state
	killDescendants(killTimeout)
	w.state.update(func(st *statefile.State) {
		st.Pid = 0
		if w.why != "" {
			st.State, st.Error = "STOPPED", w.why
		}
	})
	w.state.finish() // the last word, at once, before the worker is gone
	return code
}

// serve runs the loop on a goroutine of its own while this one, locked
// to the thread that set up (PR_SET_NO_NEW_PRIVS is per thread) and that
// lives until the worker exits, does every fork: PR_SET_PDEATHSIG fires
// when the parent *thread* exits. The loop itself is not locked: with
// GOMAXPROCS=1, every wake of a locked goroutine by another (SIGCHLD's
// delivery, the master's orders, the pumps' EOF) hands the processor to
// its thread and puts the waker's to sleep, two context switches each;
// a restart paid a dozen of them. Now only a fork does.
func (w *worker) serve() int {
	w.forks = make(chan func())
	done := make(chan int, 1)
	go func() { done <- w.loop() }()
	for {
		select {
		case f := <-w.forks:
			f()
		case code := <-done:
			w.forks = nil
			return code
		}
	}
}

// onForkThread runs f on the thread that forks jobs and waits for it.
func (w *worker) onForkThread(f func()) {
	if w.forks == nil {
		f()
		return
	}
	done := make(chan struct{})
	w.forks <- func() {
		f()
		close(done)
	}
	<-done
}

func readSpec(conn *ipc.Conn) (*ipc.Spec, error) {
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer conn.SetReadDeadline(time.Time{})
	m, files, err := conn.Recv()
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	spec, ok := m.(*ipc.Spec)
	if !ok {
		return nil, fmt.Errorf("read spec: got %s", m.Kind())
	}
	if len(spec.Argv) == 0 {
		return nil, fmt.Errorf("read spec: empty argv")
	}
	return spec, nil
}
