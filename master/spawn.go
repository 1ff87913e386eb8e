package master

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/statefile"
)

// sendTimeout bounds a write to a worker. A worker that does not read for
// this long is broken and gets killed.
const sendTimeout = 2 * time.Second

// workerEnv is the worker process's own environment. Job settings travel
// in the Spec, never here. The Go runtime settings keep an idle worker
// small and asleep: one P, and GOGC off, for the worker paces its
// collections itself (package pacer) without the one the runtime forces
// every 2 minutes. GORACE passes through for race-enabled test builds.
func workerEnv() []string {
	env := []string{"GOMAXPROCS=1", "GOGC=off", "GODEBUG=madvdontneed=1"}
	if v, ok := os.LookupEnv("GORACE"); ok {
		env = append(env, "GORACE="+v)
	}
	return env
}

// workerProc is the master side of one tm-worker. Its fields are owned by
// the loop goroutine, except conn (set by launch, then the reader's and
// writer's), the process fields (guarded by procMu: the process appears
// after an asynchronous start and is reaped by the reader) and the order
// queue (guarded by outMu).
//
// An idle worker costs the master one descriptor (its socket) and one
// parked goroutine (its reader): no pidfd (the reader reaps it by pid),
// no receive buffer (ipc.Conn borrows one per packet), no writer (one runs
// only while orders wait).
type workerProc struct {
	s       *Supervisor
	p       *Process
	procMu  sync.Mutex
	procPid int  // 0 until started
	killed  bool // kill asked, before or after the process existed
	reaped  bool // waited for: its pid may be another process's now
	conn    *ipc.Conn
	outMu   sync.Mutex
	outq    []outgoing // orders not yet written, oldest first
	outMax  int        // a longer queue means the worker stopped reading
	// writing says a writer goroutine drains outq; live that the socket
	// is up (launch succeeded), so one may; shut that no order will ever
	// be written again (the worker is gone or its socket failed).
	writing, live, shut bool
	gen                 int64 // its state file's generation
	// readyTimer kills it if Ready does not come in time; stopped at
	// Ready so an idle master is not woken for nothing.
	readyTimer Timer
	// The set-up slot (see holdSetup), guarded by setupMu: setupHeld
	// once taken, setupDone once given back or no longer wanted.
	setupMu              sync.Mutex
	setupHeld, setupDone bool
	setupTimer           Timer
	uid                  int // the ids its Ready must report
	gid                  int
	ready                bool
	failed               string                // the reason a Failed gave: the set-up failed
	pending              int                   // Starts not yet answered by Started or SpawnError
	tails                []func(*ipc.TailData) // Tails not yet answered, in order
	clears               []func(*ipc.Cleared)  // Clears not yet answered, in order
	dead                 bool                  // reaped
	broken               string
}

// outgoing is a message for a worker and descriptors to pass with it; the
// writer closes them once sent.
type outgoing struct {
	m     ipc.Message
	files []*os.File
}

// spawnWorker re-execs this binary as tm-worker for p. It returns at
// once: the socket and the process are made on another goroutine (a few per
// CPU at a time, see holdSetup), so a mass start neither stalls the loop nor
// serialises on one core, and a start waiting its turn holds no
// descriptor. Orders queue meanwhile, the Spec first.
func (s *Supervisor) spawnWorker(p *Process) (*workerProc, error) {
	wp := s.newWorkerProc(p, nil, 32)
	wp.send(s.spec(p, wp.gen))
	s.GoSafe(func() { wp.launch(p.Name) })
	return wp, nil
}

// newWorkerProc registers the master side of a new worker for p and gives
// it until ReadyTimeout to report Ready: a worker stuck in its set-up (an
// open(2) that blocks, say) would otherwise hold the slot in STARTING and
// every stop and shutdown with it.
func (s *Supervisor) newWorkerProc(p *Process, conn *ipc.Conn, queue int) *workerProc {
	wp := &workerProc{s: s, p: p, conn: conn, outMax: queue, gen: s.nextGeneration()}
	wp.uid, wp.gid = wantIDs(p.Program)
	s.workers[wp] = true
	d := s.opts.ReadyTimeout
	wp.readyTimer = s.AfterFunc(d, func() {
		s.Post(func() {
			if !wp.ready && !wp.dead {
				wp.kill(fmt.Sprintf("did not get ready within %s", d))
			}
		})
	})
	return wp
}

// nextGeneration numbers a new writer of state files: above every
// generation this master or a previous one used (see ipc.Spec.Generation).
// Loop only.
func (s *Supervisor) nextGeneration() int64 {
	s.generation = max(s.generation+1, time.Now().UnixNano())
	return s.generation
}

// launch creates the socket and the worker process, then serves the
// socket.
func (wp *workerProc) launch(name string) {
	s := wp.s
	if dir := s.opts.States; dir != nil {
		// A file left by a worker of another user could not be replaced
		// by this one (the folder is sticky); a new worker writes anew.
		// Here, not on the loop: it takes the name's lock and reads.
		statefile.Remove(dir, name, wp.gen)
	}
	wp.holdSetup()
	conn, pid, err := s.startWorker(name)
	// Out of descriptors may be a moment's peak (other spawns, clients):
	// wait for one, a while, rather than fail the start.
	for try := 0; try < fdWaitTries && (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)); try++ {
		time.Sleep(fdWait)
		conn, pid, err = s.startWorker(name)
	}
	if err != nil {
		wp.releaseSetup()
		s.Post(func() { wp.gone(nil, err.Error()) })
		return
	}
	wp.procMu.Lock()
	wp.procPid = pid
	if wp.killed {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	wp.procMu.Unlock()
	wp.conn = conn
	wp.outMu.Lock()
	wp.live = true
	wp.kickWriter()
	wp.outMu.Unlock()
	wp.read()
}

// setupHold bounds how long one worker in set-up keeps its slot: one stuck
// in its set-up (an open(2) that blocks) must not hold back every start
// until the ready timeout kills it; past it, it runs unbounded as it would
// without the slots.
const setupHold = 250 * time.Millisecond

// holdSetup waits for one of the set-up slots (s.setups) and keeps it
// until the worker is Ready, gone, or setupHold has passed. Workers in
// set-up are CPU-bound (the runtime's start, the drop, the log files);
// bounded to a few per CPU, a mass start takes no longer, and the loop,
// which shares the CPUs with them (each worker is a session, so an
// autogroup of its own, weighted as the master's), still answers requests
// within a few set-ups' time rather than after a thousand.
func (wp *workerProc) holdSetup() {
	wp.s.setups <- struct{}{}
	wp.setupMu.Lock()
	defer wp.setupMu.Unlock()
	if wp.setupDone { // gone already
		<-wp.s.setups
		return
	}
	wp.setupHeld = true
	wp.setupTimer = wp.s.AfterFunc(setupHold, wp.releaseSetup)
}

// releaseSetup gives the set-up slot back, if held, and ends the hold;
// any goroutine, any number of times.
func (wp *workerProc) releaseSetup() {
	wp.setupMu.Lock()
	defer wp.setupMu.Unlock()
	if wp.setupDone {
		return
	}
	wp.setupDone = true
	if wp.setupHeld {
		wp.setupTimer.Stop()
		<-wp.s.setups
	}
}

// How long a spawn out of descriptors waits for one: fdWaitTries times
// fdWait.
const (
	fdWait      = 10 * time.Millisecond
	fdWaitTries = 100
)

// startWorker makes the socketpair and forks the worker with the child's
// end as fd 3. It is syscall.ForkExec rather than os.StartProcess, which
// would hold a pidfd per worker for the master's life: the reader reaps the
// worker by pid instead, so a worker costs the master its socket alone.
func (s *Supervisor) startWorker(name string) (*ipc.Conn, int, error) {
	null, err := s.devNull()
	if err != nil {
		return nil, 0, fmt.Errorf("start worker: %w", err)
	}
	conn, child, err := ipc.Pair()
	if err != nil {
		return nil, 0, fmt.Errorf("start worker: %w", err)
	}
	defer child.Close()
	pid, err := syscall.ForkExec(s.opts.Exe, []string{"tm-worker", name}, &syscall.ProcAttr{
		Env:   workerEnv(),
		Files: []uintptr{null.Fd(), null.Fd(), os.Stderr.Fd(), child.Fd()},
		// A session of its own, with no controlling terminal: neither
		// the worker nor its jobs can reach the master's terminal
		// (TIOCSTI, tcsetpgrp), and a Ctrl-C there is the master's.
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		conn.Close()
		return nil, 0, fmt.Errorf("start worker: fork/exec %s: %w", s.opts.Exe, err)
	}
	return conn, pid, nil
}

// devNull is /dev/null, opened once for every worker's stdin and stdout
// rather than once per spawn.
func (s *Supervisor) devNull() (*os.File, error) {
	s.nullMu.Lock()
	defer s.nullMu.Unlock()
	if s.null == nil {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
		}
		s.null = f
	}
	return s.null, nil
}

// pid is the worker process's pid, 0 before it exists.
func (wp *workerProc) pid() int {
	wp.procMu.Lock()
	defer wp.procMu.Unlock()
	return wp.procPid
}

// signalKill kills the worker process, now or as soon as it exists. Never
// after it was reaped: its pid may then be another process's.
func (wp *workerProc) signalKill() {
	wp.procMu.Lock()
	defer wp.procMu.Unlock()
	wp.killed = true
	if wp.procPid != 0 && !wp.reaped {
		syscall.Kill(wp.procPid, syscall.SIGKILL)
	}
}

// reap waits for the worker process to end and collects its status. It
// waits without reaping first (WNOWAIT), then reaps under procMu: a kill
// can never reach a pid recycled after the reap.
func (wp *workerProc) reap() (syscall.WaitStatus, error) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, wp.procPid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	wp.procMu.Lock()
	defer wp.procMu.Unlock()
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(wp.procPid, &ws, 0, nil)
		if err != syscall.EINTR {
			wp.reaped = true
			return ws, err
		}
	}
}

// baseEnv is what a job's environment starts from: the master's own, or
// with clearenv only a standard PATH, so that secrets in the master's
// environment never reach the worker or the job (issue 10, point 10).
func baseEnv(prog *config.Program) []string {
	if prog.ClearEnv {
		return []string{"PATH=" + config.CleanPath}
	}
	return os.Environ()
}

func (s *Supervisor) spec(p *Process, gen int64) *ipc.Spec {
	prog := p.Program
	keys := make([]string, 0, len(prog.Env))
	for k := range prog.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	jobEnv := make([]string, 0, len(keys))
	for _, k := range keys {
		jobEnv = append(jobEnv, k+"="+prog.Env[k])
	}
	return &ipc.Spec{
		Name: p.Name, Argv: prog.Argv, Env: baseEnv(prog), ClearEnv: prog.ClearEnv, JobEnv: jobEnv,
		Dir: prog.WorkingDir, Umask: prog.Umask, UID: prog.UID, GID: prog.GID,
		NoNewPrivs: prog.NoNewPrivs, Stdout: prog.Stdout, Stderr: prog.Stderr,
		StdoutMaxBytes: prog.StdoutMaxBytes, StdoutBackups: prog.StdoutBackups,
		StderrMaxBytes: prog.StderrMaxBytes, StderrBackups: prog.StderrBackups,
		SharedLogs: prog.NumProcs > 1, TTY: prog.TTY,
		StopSignal: int(prog.StopSignal), StopTimeMs: prog.StopTime.Milliseconds(),
		StateDir: s.opts.StateDir, Generation: gen,
	}
}

func (wp *workerProc) Start() {
	wp.pending++
	wp.send(&ipc.Start{})
}

// Stop stops the job. A worker that is not ready yet has no job: it is
// killed at once rather than left to finish a set-up that may never end.
func (wp *workerProc) Stop(sig syscall.Signal, timeout time.Duration) {
	if !wp.ready {
		if wp.broken == "" {
			wp.broken = "stopped before it was ready"
		}
		wp.signalKill()
		return
	}
	wp.send(&ipc.Stop{Signal: int(sig), TimeoutMs: timeout.Milliseconds()})
}

func (wp *workerProc) Signal(sig syscall.Signal) { wp.send(&ipc.Signal{Signal: int(sig)}) }

func (wp *workerProc) Status(st ipc.Status) { wp.send(&st) }

func (wp *workerProc) Quit() { wp.send(&ipc.Quit{}) }

func (wp *workerProc) Tail(t ipc.Tail, reply func(*ipc.TailData)) {
	if wp.dead {
		reply(nil)
		return
	}
	wp.tails = append(wp.tails, reply)
	wp.send(&t)
}

func (wp *workerProc) Clear(reply func(*ipc.Cleared)) {
	if wp.dead {
		reply(nil)
		return
	}
	wp.clears = append(wp.clears, reply)
	wp.send(&ipc.Clear{})
}

func (wp *workerProc) Reopen() { wp.send(&ipc.Reopen{}) }

// Input sends data in pieces that fit a packet.
func (wp *workerProc) Input(data []byte) {
	for len(data) > 0 {
		n := min(len(data), maxInput)
		wp.send(&ipc.Input{Data: data[:n]})
		data = data[n:]
	}
}

// maxInput is the most of a job's stdin one packet carries.
const maxInput = 32 << 10

func (wp *workerProc) Attach(f *os.File, a *ipc.Attach) { wp.sendFiles(a, f) }

// send queues m without blocking the loop. A full queue means the worker
// stopped reading: it is killed.
func (wp *workerProc) send(m ipc.Message) { wp.sendFiles(m) }

// sendFiles queues m with descriptors to pass; it owns files.
func (wp *workerProc) sendFiles(m ipc.Message, files ...*os.File) {
	wp.outMu.Lock()
	if wp.shut {
		wp.outMu.Unlock()
		closeFiles(files)
		return
	}
	if len(wp.outq) >= wp.outMax {
		wp.outMu.Unlock()
		closeFiles(files)
		wp.kill("does not read its orders")
		return
	}
	wp.outq = append(wp.outq, outgoing{m, files})
	wp.kickWriter()
	wp.outMu.Unlock()
}

// kickWriter starts a writer if orders wait and none runs. outMu held.
func (wp *workerProc) kickWriter() {
	if wp.live && !wp.writing && !wp.shut && len(wp.outq) > 0 {
		wp.writing = true
		wp.s.GoSafe(wp.write)
	}
}

// closeOrders drops every order not yet written: the worker is gone or
// cannot be written to. No order is queued after.
func (wp *workerProc) closeOrders() {
	wp.outMu.Lock()
	q := wp.outq
	wp.outq, wp.shut = nil, true
	wp.outMu.Unlock()
	for _, o := range q {
		closeFiles(o.files)
	}
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// kill ends a broken worker; its reader then reports it gone.
func (wp *workerProc) kill(why string) {
	if wp.broken == "" {
		wp.broken = why
		wp.s.log.Write(wp.p.Name, Event{Msg: "killing worker: " + why, Err: true})
	}
	wp.signalKill()
}

// write sends the queued orders in order and ends when the queue is
// empty: an idle worker has no writer goroutine.
func (wp *workerProc) write() {
	for {
		wp.outMu.Lock()
		if len(wp.outq) == 0 || wp.shut {
			// An empty queue gives its array back.
			wp.outq, wp.writing = nil, false
			wp.outMu.Unlock()
			return
		}
		o := wp.outq[0]
		wp.outq[0] = outgoing{}
		wp.outq = wp.outq[1:]
		wp.outMu.Unlock()
		fds := make([]int, len(o.files))
		for i, f := range o.files {
			fds[i] = int(f.Fd())
		}
		err := wp.conn.SendFDs(o.m, sendTimeout, fds...)
		closeFiles(o.files)
		if err != nil {
			wp.signalKill()
			wp.closeOrders()
			wp.conn.CloseWrite()
			wp.outMu.Lock()
			wp.writing = false
			wp.outMu.Unlock()
			return
		}
	}
}

// read forwards the worker's messages to the loop, then reaps the worker.
// A packet that does not decode gets the worker killed: it is not to be
// trusted any more.
func (wp *workerProc) read() {
	for {
		m, files, err := wp.conn.Recv()
		for _, f := range files {
			f.Close()
		}
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			break
		}
		if errors.Is(err, syscall.ECONNRESET) {
			// The worker exited with orders unread (its set-up failed):
			// the kernel reports that first, then still delivers what it
			// sent before (its Failed), then EOF.
			continue
		}
		if _, transport := errors.AsType[*net.OpError](err); transport {
			why := fmt.Sprintf("socket failed: %v", err)
			wp.s.Post(func() { wp.kill(why) })
			break // nothing more will come
		}
		if err != nil {
			why := fmt.Sprintf("sent a bad packet: %v", err)
			wp.s.Post(func() { wp.kill(why) })
			continue // read on until the kill closes the socket
		}
		wp.s.Post(func() { wp.handle(m) })
	}
	ws, err := wp.reap()
	wp.conn.Close()
	var state *syscall.WaitStatus
	if err == nil {
		state = &ws
	}
	wp.s.Post(func() { wp.gone(state, "") })
}

// handle checks one message from a worker against what the master expects:
// a worker runs job code's neighbour and is not trusted.
func (wp *workerProc) handle(m ipc.Message) {
	if wp.dead || wp.broken != "" {
		return
	}
	p := wp.p
	current := p.w == Worker(wp)
	switch m := m.(type) {
	case *ipc.Ready:
		wp.onReady(m)
	case *ipc.Started:
		if !wp.ready {
			wp.kill("sent Started before Ready")
			return
		}
		if !wp.answer(m) || m.Pid <= 0 || (current && p.pid != 0) {
			wp.kill(fmt.Sprintf("unexpected Started pid %d", m.Pid))
			return
		}
		if current {
			p.OnStarted(m.Pid, time.UnixMilli(m.UnixMs))
		}
	case *ipc.SpawnError:
		if !wp.ready {
			wp.kill("sent SpawnError before Ready")
			return
		}
		if !wp.answer(m) {
			wp.kill("unexpected SpawnError")
			return
		}
		if current {
			p.OnSpawnError(m.Reason)
		}
	case *ipc.Exited:
		if !current || m.Pid != p.pid || m.Pid == 0 {
			wp.kill(fmt.Sprintf("Exited for pid %d, which is not its job", m.Pid))
			return
		}
		p.OnExited(Exit{Pid: m.Pid, Code: m.Code, Signal: syscall.Signal(m.Signal), Killed: m.Killed})
	case *ipc.Failed:
		if wp.ready {
			wp.kill("sent Failed after Ready")
			return
		}
		// The worker exits after Failed; gone reports it to the slot once
		// it is reaped, so its job can never outlive the report.
		wp.failed = m.Reason
		wp.signalKill()
	case *ipc.TailData:
		if len(wp.tails) == 0 || len(m.Data) > ipc.MaxPacket || m.Offset < 0 || m.Next < m.Offset+int64(len(m.Data)) {
			wp.kill("unexpected TailData")
			return
		}
		reply := wp.tails[0]
		wp.tails = wp.tails[1:]
		reply(m)
	case *ipc.Cleared:
		if len(wp.clears) == 0 {
			wp.kill("unexpected Cleared")
			return
		}
		reply := wp.clears[0]
		wp.clears = wp.clears[1:]
		reply(m)
	case *ipc.Notice:
		wp.s.log.Write(p.Name, Event{Msg: m.Msg, Pid: p.pid, Warn: !m.Info})
	default:
		wp.kill(fmt.Sprintf("sent a %s message", m.Kind()))
	}
}

// onReady checks the worker's own word on who it became against what it
// was asked to become: a worker that dropped to other ids than its Spec
// said (or did not drop) must not run a job.
func (wp *workerProc) onReady(m *ipc.Ready) {
	if wp.ready {
		wp.kill("sent Ready twice")
		return
	}
	if m.UID != wp.uid || m.GID != wp.gid {
		wp.kill(fmt.Sprintf("reported uid %d gid %d, not uid %d gid %d", m.UID, m.GID, wp.uid, wp.gid))
		return
	}
	wp.ready = true
	wp.readyTimer.Stop()
	wp.releaseSetup()
}

// wantIDs are the ids a worker for prog must report in its Ready: the
// program's user and group, or the master's own.
func wantIDs(prog *config.Program) (uid, gid int) {
	uid, gid = prog.UID, prog.GID
	if uid < 0 {
		uid = os.Getuid()
	}
	if gid < 0 {
		gid = os.Getgid()
	}
	return uid, gid
}

// answer accounts for a reply to a Start; false if none was asked for.
func (wp *workerProc) answer(ipc.Message) bool {
	if wp.pending == 0 {
		return false
	}
	wp.pending--
	return true
}

// gone runs once the worker process has been reaped, or could not be
// started (launchErr says why). For its slot, a worker that never got
// ready is a spawn error (BACKOFF, then FATAL); one lost later takes its
// job with it.
func (wp *workerProc) gone(state *syscall.WaitStatus, launchErr string) {
	wp.dead = true
	wp.readyTimer.Stop()
	wp.releaseSetup()
	wp.closeOrders()
	for _, reply := range wp.tails {
		reply(nil)
	}
	for _, reply := range wp.clears {
		reply(nil)
	}
	wp.tails, wp.clears = nil, nil
	delete(wp.s.workers, wp)
	p := wp.p
	if p.w == Worker(wp) {
		switch {
		case launchErr != "":
			wp.s.log.Write(p.Name, Event{Msg: launchErr, Err: true})
			p.OnWorkerFailed(launchErr)
		case !wp.ready:
			p.OnWorkerFailed(wp.setupFailure(state))
		default:
			why := wp.broken
			if why == "" {
				why = fmt.Sprintf("worker %s", exitText(state))
			}
			p.OnWorkerLost(why)
		}
	}
	wp.s.checkShutdown()
}

// setupFailure says why a worker ended before it was ready.
func (wp *workerProc) setupFailure(state *syscall.WaitStatus) string {
	switch {
	case wp.failed != "":
		return wp.failed
	case wp.broken != "":
		return "worker " + wp.broken
	}
	return fmt.Sprintf("worker %s before it was ready", exitText(state))
}

func exitText(ws *syscall.WaitStatus) string {
	switch {
	case ws == nil:
		return "vanished"
	case ws.Signaled():
		return "killed by signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exited with code %d", ws.ExitStatus())
}

// setupSlots is how many workers may be in set-up at once: enough to keep
// every CPU busy while some wait on the kernel, few enough that the loop
// keeps its share.
func setupSlots() int { return 2 * runtime.GOMAXPROCS(0) }
