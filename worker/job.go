package worker

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/statefile"
)

// drainTimeout bounds the wait for a dead job's output pipes to reach EOF:
// a grandchild that inherited them may keep them open forever.
const drainTimeout = 500 * time.Millisecond

// job is the running child, leader of a session of its own: its pid is
// also its process group id and its session id. Once reaped it stays here
// until its output is drained, so its last bytes are in the log before
// the master hears of the exit.
type job struct {
	pid      int
	stopping bool
	killed   bool        // SIGKILLed after the stop timeout
	timer    *time.Timer // stop timeout, then drain timeout
	eof      chan struct{}
	open     int              // output pipes not yet at EOF
	status   *unix.WaitStatus // set when reaped
}

// loop serves the master until it says Quit or goes away, then stops the
// job and returns the worker's exit code.
func (w *worker) loop() int {
	msgs := make(chan order, 4)
	go w.read(msgs)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT)
	// A SIGHUP is not the worker's business (it has no terminal; a reload
	// is the master's). Caught and dropped, not ignored: an ignored
	// disposition survives exec, and every job would start deaf to HUP.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	// Orphaned grandchildren reparent to us, so we reap them: no zombies.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

	quitting := false
	for !quitting || w.job != nil {
		var timeout <-chan time.Time
		var eof <-chan struct{}
		if w.job != nil {
			eof = w.job.eof
			if w.job.timer != nil {
				timeout = w.job.timer.C
			}
		}
		flush := w.state.due(func() bool { return idle(msgs, sigs, eof) })
		select {
		case <-flush:
			w.state.fired()
		case o, ok := <-msgs:
			if !ok {
				msgs, quitting = nil, true
				w.windDown("the master went away; the worker stopped its job")
				continue
			}
			if w.handle(o.m, o.files) {
				quitting = true
			}
		case s := <-sigs:
			if s == syscall.SIGCHLD {
				w.reap()
				continue
			}
			quitting = true
			w.windDown(fmt.Sprintf("the worker got %s and stopped its job", unix.SignalName(s.(syscall.Signal))))
		case <-eof:
			w.job.open--
			w.reportIfDone()
		case <-timeout:
			if w.job.status != nil {
				w.report() // drain timed out
			} else {
				w.kill()
			}
		}
	}
	if w.term != nil {
		w.term.flush(time.Second)
	}
	return exitOK
}

// idle reports whether nothing is queued for the loop, once the
// goroutines that feed it (the master's reader, the output pumps) had a
// chance to run: with GOMAXPROCS=1 an order already in the socket (the
// Start after the Spec, a Status after Started) reaches msgs only when
// this goroutine yields. A state change waits until the loop is idle
// (then a settle delay), so the changes of one burst make one write.
func idle(msgs <-chan order, sigs <-chan os.Signal, eof <-chan struct{}) bool {
	runtime.Gosched()
	return len(msgs) == 0 && len(sigs) == 0 && len(eof) == 0
}

// windDown stops the job with its own stop settings because the worker is
// ending; why, if set, goes in the final state file.
func (w *worker) windDown(why string) {
	if why != "" {
		w.why = why
	}
	w.stop(syscall.Signal(w.spec.StopSignal), time.Duration(w.spec.StopTimeMs)*time.Millisecond)
}

// order is a message from the master and the descriptors it carried.
type order struct {
	m     ipc.Message
	files []*os.File
}

// read forwards the master's messages until EOF or a broken packet.
func (w *worker) read(out chan<- order) {
	defer close(out)
	for {
		m, files, err := w.conn.Recv()
		if err != nil {
			return
		}
		out <- order{m, files}
	}
}

// handle executes one order; it returns true for Quit. It owns files.
func (w *worker) handle(m ipc.Message, files []*os.File) bool {
	if a, ok := m.(*ipc.Attach); ok && len(files) == 1 {
		w.attach(a, files[0])
		return false
	}
	for _, f := range files {
		f.Close()
	}
	switch m := m.(type) {
	case *ipc.Start:
		w.start()
	case *ipc.Stop:
		w.stop(syscall.Signal(m.Signal), time.Duration(m.TimeoutMs)*time.Millisecond)
	case *ipc.Signal:
		if w.job != nil && w.job.status == nil {
			signalGroup(w.job.pid, syscall.Signal(m.Signal))
		}
	case *ipc.Quit:
		w.windDown("") // the master's last Status says why
		return true
	case *ipc.Tail:
		w.tail(m)
	case *ipc.Status:
		w.state.rename(m.Name)
		w.state.update(func(st *statefile.State) { st.State, st.Restarts, st.Error = m.State, m.Restarts, m.Error })
	case *ipc.Clear:
		w.clear()
	case *ipc.Input:
		// sendProcessStdin: only a tty job has a stdin to write to.
		if w.term != nil {
			w.term.input(m.Data)
		}
	case *ipc.Reopen:
		for _, o := range []*output{w.stdout, w.stderr} {
			if o.file != nil {
				o.file.Reopen()
			}
		}
	}
	return false
}

// maxTail bounds one TailData so it fits a packet.
const maxTail = 32 << 10

func (w *worker) tail(m *ipc.Tail) {
	o := w.stdout
	if m.Stream == "stderr" {
		o = w.stderr
	}
	w.send(o.tail(m, min(max(m.Max, 0), maxTail)))
}

// clear empties both streams through the worker's own descriptors (never
// a path: the job may have changed what the path leads to) and answers.
func (w *worker) clear() {
	var errs []string
	for _, o := range []*output{w.stdout, w.stderr} {
		if err := o.clear(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	w.send(&ipc.Cleared{Error: strings.Join(errs, "; ")})
}

func (w *worker) start() {
	if w.job != nil {
		w.send(&ipc.SpawnError{Reason: "already running"})
		return
	}
	path, err := lookPath(w.spec.Argv[0], envPath(w.env))
	if err != nil {
		w.send(&ipc.SpawnError{Reason: err.Error()})
		return
	}
	if w.term != nil {
		w.startTTY(path)
		return
	}
	readers, writers, err := w.pipes()
	if err != nil {
		w.send(&ipc.SpawnError{Reason: fmt.Sprintf("couldn't make pipes: %v", err)})
		return
	}
	// A session of its own and no controlling terminal: the job cannot
	// open /dev/tty, so no TIOCSTI into the terminal the master was
	// started from and no tcsetpgrp to take its foreground.
	attr := &syscall.ProcAttr{
		Env:   w.env,
		Files: []uintptr{w.stdin.Fd(), writers[0].Fd(), writers[len(writers)-1].Fd()},
		Sys:   &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL},
	}
	var pid int
	w.onForkThread(func() { pid, err = syscall.ForkExec(path, w.spec.Argv, attr) })
	for _, f := range writers {
		f.Close()
	}
	if err != nil {
		for _, f := range readers {
			f.Close()
		}
		w.send(&ipc.SpawnError{Reason: execError(path, err)})
		return
	}
	j := &job{pid: pid, eof: make(chan struct{}, len(readers)), open: len(readers)}
	w.job = j
	w.started(pid)
	go w.stdout.pump(readers[0], j.eof)
	if len(readers) > 1 {
		go w.stderr.pump(readers[1], j.eof)
	}
}

// started reports a new job to the master and the state file.
func (w *worker) started(pid int) {
	now := time.Now()
	w.send(&ipc.Started{Pid: pid, UnixMs: now.UnixMilli()})
	w.state.update(func(st *statefile.State) { st.Pid, st.StartedAt = pid, now.Format(time.RFC3339) })
}

// startTTY runs the job on a fresh pty as a session leader with the pty as
// its controlling terminal, so isatty, job control and full-screen
// programs work. stdout and stderr are the one terminal stream.
func (w *worker) startTTY(path string) {
	ptmx, tty, err := w.term.open()
	if err != nil {
		w.send(&ipc.SpawnError{Reason: fmt.Sprintf("couldn't open a pty: %v", err)})
		return
	}
	attr := &syscall.ProcAttr{
		Env:   w.env,
		Files: []uintptr{tty.Fd(), tty.Fd(), tty.Fd()},
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: syscall.SIGKILL},
	}
	var pid int
	w.onForkThread(func() { pid, err = syscall.ForkExec(path, w.spec.Argv, attr) })
	// Only the job holds the terminal now: its end makes the pump see EOF.
	tty.Close()
	if err != nil {
		ptmx.Close()
		w.send(&ipc.SpawnError{Reason: execError(path, err)})
		return
	}
	j := &job{pid: pid, eof: make(chan struct{}, 1), open: 1}
	w.job = j
	w.started(pid)
	go w.term.pump(ptmx, w.stdout, j.eof)
}

// attach serves a client the master handed over, if there is a terminal
// to attach to; otherwise it says why and hangs up.
func (w *worker) attach(a *ipc.Attach, f *os.File) {
	conn, err := ipc.FileConn(f)
	if err != nil {
		return
	}
	if w.term == nil || w.job == nil || w.job.status != nil {
		conn.Send(&ipc.Output{Data: fmt.Sprintf("ERROR (not running): %s\n", w.spec.Name)}, time.Second)
		conn.Send(&ipc.Done{Code: 1}, time.Second)
		conn.Close()
		return
	}
	w.term.attach(conn, w.spec.Name, a, w.stdout.recent(), w.job.pid)
}

// pipes makes the job's output pipes: one for stdout and stderr when they
// go to the same file (ordered as `>file 2>&1`), else one each.
func (w *worker) pipes() (readers, writers []*os.File, err error) {
	outs := []*output{w.stdout, w.stderr}
	if w.merged {
		outs = outs[:1]
	}
	for _, o := range outs {
		r, wr, err := newPipe(o.file != nil)
		if err != nil {
			for _, f := range append(readers, writers...) {
				f.Close()
			}
			return nil, nil, err
		}
		readers, writers = append(readers, r), append(writers, wr)
	}
	return readers, writers, nil
}

// stop sends sig to the job's group and arms the SIGKILL timeout. A second
// stop while stopping changes nothing.
func (w *worker) stop(sig syscall.Signal, timeout time.Duration) {
	if w.job == nil || w.job.stopping || w.job.status != nil {
		return
	}
	w.job.stopping = true
	signalGroup(w.job.pid, sig)
	// A job stopped by SIGSTOP would never see sig: wake it, as supervisor does.
	signalGroup(w.job.pid, syscall.SIGCONT)
	w.job.timer = time.NewTimer(timeout)
}

func (w *worker) kill() {
	if w.job == nil || w.job.status != nil {
		return
	}
	w.job.killed = true
	signalGroup(w.job.pid, syscall.SIGKILL)
}

// reap collects every exited child; only the job's exit is reported.
func (w *worker) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
		if w.job != nil && pid == w.job.pid && w.job.status == nil {
			w.exited(ws)
		}
	}
}

// exited records the job's status and kills what the job left behind;
// the report waits for its output.
func (w *worker) exited(ws unix.WaitStatus) {
	j := w.job
	j.status = &ws
	if j.timer != nil {
		j.timer.Stop()
	}
	// However the job ended, its stragglers go before its exit is
	// reported, so a restart never runs next to them: its group, and
	// whatever left the group (setsid, double forks) and came to us as
	// their subreaper. Their end also closes the output pipes they held,
	// so the drain below ends at once.
	unix.Kill(-j.pid, syscall.SIGKILL)
	if !killDescendants(killTimeout) {
		w.notice(fmt.Sprintf("processes left by job %d would not die within %s", j.pid, killTimeout))
	}
	j.timer = time.NewTimer(drainTimeout)
	w.reportIfDone()
}

func (w *worker) reportIfDone() {
	if j := w.job; j.status != nil && j.open == 0 {
		w.report()
	}
}

// report tells the master how the job ended; the slot is free again.
func (w *worker) report() {
	j := w.job
	w.job = nil
	j.timer.Stop()
	ws := *j.status
	m := &ipc.Exited{Pid: j.pid, Code: ws.ExitStatus(), Killed: j.killed}
	if ws.Signaled() {
		m.Code = -1
		m.Signal = int(ws.Signal())
	}
	if w.term != nil {
		w.term.jobExited(&ipc.JobExited{Name: w.spec.Name, Code: m.Code, Signal: m.Signal})
	}
	w.send(m)
	w.state.update(func(st *statefile.State) { st.Pid, st.ExitStatus = 0, m.Code })
}

// signalGroup signals the job's process group. The job leads a session,
// and a session leader cannot leave its group (setpgid and setsid fail
// with EPERM), so the group always holds the job.
func signalGroup(pid int, sig syscall.Signal) {
	unix.Kill(-pid, sig)
}
