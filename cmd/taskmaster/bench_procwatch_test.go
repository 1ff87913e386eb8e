package main

import (
	byteorder "encoding/binary" // "binary" is the harness's taskmaster binary
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel's process events (the netlink proc connector, <linux/cn_proc.h>):
// every fork, exec and exit of the machine, each with the kernel's
// CLOCK_MONOTONIC timestamp. The benchmarks time start-ups, shutdowns and
// restarts with them, so no observer polls /proc while a figure is taken.
// Listening needs CAP_NET_ADMIN (root) and CONFIG_PROC_EVENTS.
const (
	cnIdxProc         = 1 // CN_IDX_PROC
	cnValProc         = 1 // CN_VAL_PROC
	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN

	procEventFork = 0x00000001
	procEventExec = 0x00000002
	procEventExit = 0x80000000

	nlmsgHdrLen = 16 // struct nlmsghdr
	cnMsgLen    = 20 // struct cn_msg without its data
	// struct proc_event: what, cpu, timestamp_ns (8-aligned), then the
	// event's own data.
	procEventDataOff = 16
)

// procEvent is one fork, exec or exit. For a fork, pid and tgid are the
// child's and parent the parent's tgid; for an exit, pid is the thread
// that exited and tgid its process.
type procEvent struct {
	kind      uint32
	at        time.Duration // CLOCK_MONOTONIC, as monoNow
	pid, tgid int
	parent    int
	comm      string // an exec's new command name, once it is known to be in the tree
}

// parseProcEvents decodes one datagram of the proc connector. Messages of
// other kinds (the listen acknowledgement, uid changes...) are skipped.
func parseProcEvents(buf []byte) ([]procEvent, error) {
	var evs []procEvent
	le := byteorder.NativeEndian
	for len(buf) >= nlmsgHdrLen {
		n := int(le.Uint32(buf[0:4]))
		if n < nlmsgHdrLen || n > len(buf) {
			return evs, fmt.Errorf("proc connector: message of %d bytes in %d", n, len(buf))
		}
		msg := buf[nlmsgHdrLen:n]
		buf = buf[min(len(buf), (n+3)&^3):]
		if len(msg) < cnMsgLen+procEventDataOff {
			continue
		}
		if le.Uint32(msg[0:4]) != cnIdxProc || le.Uint32(msg[4:8]) != cnValProc {
			continue
		}
		ev := msg[cnMsgLen:]
		data := ev[procEventDataOff:]
		u32 := func(i int) int { return int(le.Uint32(data[4*i : 4*i+4])) }
		e := procEvent{kind: le.Uint32(ev[0:4]), at: time.Duration(le.Uint64(ev[8:16]))}
		switch e.kind {
		case procEventFork: // parent_pid, parent_tgid, child_pid, child_tgid
			if len(data) < 16 {
				continue
			}
			e.parent, e.pid, e.tgid = u32(1), u32(2), u32(3)
		case procEventExec: // process_pid, process_tgid
			if len(data) < 8 {
				continue
			}
			e.pid, e.tgid = u32(0), u32(1)
		case procEventExit: // process_pid, process_tgid, exit_code, exit_signal, parent_pid, parent_tgid
			if len(data) < 24 {
				continue
			}
			e.pid, e.tgid, e.parent = u32(0), u32(1), u32(5)
		default:
			continue
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// monoNow is CLOCK_MONOTONIC, the clock of the events' timestamps.
func monoNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err) // cannot fail on Linux
	}
	return time.Duration(ts.Nano())
}

// procWatch follows process trees through the proc connector: it keeps the
// execs and exits of the processes under the roots it is told to track
// (and of their descendants, known from fork events). The events of the
// rest of the machine are kept too, since a child may exec before its
// parent's fork event is sent. Pids are reused quickly on a busy machine
// (pid_max may be 32768): a process leaves the tree when it exits, and a
// fork forgets what an earlier process of the same pid did.
type procWatch struct {
	f      *os.File
	mu     sync.Mutex
	kids   map[int][]int       // fork events: parent tgid → child tgids
	inTree map[int]bool        // tracked tgids still alive
	stray  map[int][]procEvent // execs and exits of processes not (yet) in a tree
	execs  []procEvent         // of tracked processes, comm filled in
	exits  []procEvent
	gone   map[int]bool // tracked tgids whose main thread has exited
	lost   int          // datagrams lost to a full receive buffer
	err    error
	wake   chan struct{} // closed and replaced when events arrive
	done   chan struct{}
}

// newProcWatch subscribes to the proc connector. The caller closes it.
func newProcWatch() (*procWatch, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("proc connector: socket: %w", err)
	}
	// A busy machine sends thousands of events a second; keep up with
	// bursts (SO_RCVBUFFORCE as root goes beyond rmem_max).
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 32<<20)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("proc connector: bind: %w", err)
	}
	if err := unix.Sendto(fd, listenMessage(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("proc connector: listen: %w", err)
	}
	w := &procWatch{
		f:      os.NewFile(uintptr(fd), "proc-connector"),
		kids:   map[int][]int{},
		inTree: map[int]bool{},
		stray:  map[int][]procEvent{},
		gone:   map[int]bool{},
		wake:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go w.read()
	return w, nil
}

// listenMessage is PROC_CN_MCAST_LISTEN in a cn_msg in a nlmsghdr.
func listenMessage() []byte {
	le := byteorder.NativeEndian
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	le.PutUint32(msg[0:], uint32(len(msg)))
	le.PutUint16(msg[4:], unix.NLMSG_DONE)
	le.PutUint32(msg[12:], uint32(os.Getpid()))
	cn := msg[nlmsgHdrLen:]
	le.PutUint32(cn[0:], cnIdxProc)
	le.PutUint32(cn[4:], cnValProc)
	le.PutUint16(cn[16:], 4)
	le.PutUint32(cn[cnMsgLen:], procCnMcastListen)
	return msg
}

func (w *procWatch) close() {
	w.f.Close()
	<-w.done
}

func (w *procWatch) read() {
	defer close(w.done)
	buf := make([]byte, 1<<16)
	for {
		n, err := w.f.Read(buf)
		if errors.Is(err, syscall.ENOBUFS) {
			w.mu.Lock()
			w.lost++
			w.mu.Unlock()
			continue
		}
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
			}
			return
		}
		evs, err := parseProcEvents(buf[:n])
		w.mu.Lock()
		if err != nil {
			w.err = err
		}
		for _, e := range evs {
			w.add(e)
		}
		close(w.wake)
		w.wake = make(chan struct{})
		w.mu.Unlock()
	}
}

// add files one event; w.mu is held.
func (w *procWatch) add(e procEvent) {
	switch {
	case e.kind == procEventFork:
		if e.pid != e.tgid { // a new thread, not a process
			return
		}
		// What came before the last exit of this pid was another process.
		old := w.stray[e.tgid]
		for i := len(old) - 1; i >= 0; i-- {
			if old[i].kind == procEventExit && old[i].pid == old[i].tgid {
				w.stray[e.tgid] = old[i+1:]
				break
			}
		}
		delete(w.kids, e.tgid)
		w.kids[e.parent] = append(w.kids[e.parent], e.tgid)
		if w.inTree[e.parent] {
			w.adopt(e.tgid)
		}
	case w.inTree[e.tgid]:
		w.keep(e)
	default:
		w.stray[e.tgid] = append(w.stray[e.tgid], e)
	}
}

// adopt puts tgid and its known descendants in the tree, with the events
// they had before it was known they belong there; w.mu is held.
func (w *procWatch) adopt(tgid int) {
	if w.inTree[tgid] {
		return
	}
	w.inTree[tgid] = true
	for _, e := range w.stray[tgid] {
		w.keep(e)
	}
	delete(w.stray, tgid)
	for _, k := range w.kids[tgid] {
		w.adopt(k)
	}
}

// keep records an event of a tracked process; w.mu is held.
func (w *procWatch) keep(e procEvent) {
	if e.kind == procEventExec {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", e.tgid))
		e.comm = strings.TrimSpace(string(b))
		w.execs = append(w.execs, e)
		return
	}
	w.exits = append(w.exits, e)
	if e.pid == e.tgid {
		w.gone[e.tgid] = true
		delete(w.inTree, e.tgid)
	}
}

// track adds pid, and every process now under it, to the tracked trees.
func (w *procWatch) track(pid int) {
	tree := descendants(pid)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range tree {
		w.adopt(p)
	}
}

// wait blocks until ok (called with w.mu held) is true, or d has passed.
func (w *procWatch) wait(d time.Duration, ok func() bool) error {
	deadline := time.After(d)
	for {
		w.mu.Lock()
		done, wake, err := ok(), w.wake, w.err
		w.mu.Unlock()
		if done {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-wake:
		case <-deadline:
			return fmt.Errorf("proc connector: not seen after %s", d)
		}
	}
}

// execsOf returns the execs in the tracked trees of a command named comm
// that happened after since, the last one of each process (`sh -c` then
// the command both read as the command's name: the comm is read late);
// w.mu is held.
func (w *procWatch) execsOf(comm string, since time.Duration) []procEvent {
	var res []procEvent
	at := map[int]int{} // tgid → index in res
	for _, e := range w.execs {
		if e.comm != comm || e.at <= since {
			continue
		}
		if i, ok := at[e.tgid]; ok {
			res[i] = e
			continue
		}
		at[e.tgid] = len(res)
		res = append(res, e)
	}
	return res
}

// execAt is when pid exec'd (its first exec seen), or false.
func (w *procWatch) execAt(pid int) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.execs {
		if e.tgid == pid {
			return e.at, true
		}
	}
	return 0, false
}

// waitExecs waits for n execs of comm after since in the tracked trees and
// returns the time of the n-th.
func (w *procWatch) waitExecs(comm string, n int, since, d time.Duration) (time.Duration, error) {
	var at time.Duration
	err := w.wait(d, func() bool {
		evs := w.execsOf(comm, since)
		if len(evs) < n {
			return false
		}
		times := make([]time.Duration, len(evs))
		for i, e := range evs {
			times[i] = e.at
		}
		slices.Sort(times)
		at = times[n-1]
		return true
	})
	if err != nil {
		w.mu.Lock()
		err = fmt.Errorf("%d of %d execs of %s: %w", len(w.execsOf(comm, since)), n, comm, err)
		w.mu.Unlock()
	}
	return at, err
}

// waitGone waits until every tracked process has exited and returns the
// time the last thread of them exited.
func (w *procWatch) waitGone(d time.Duration) (time.Duration, error) {
	var last time.Duration
	err := w.wait(d, func() bool {
		if len(w.inTree) > 0 {
			return false
		}
		for _, e := range w.exits {
			last = max(last, e.at)
		}
		return true
	})
	if err != nil {
		w.mu.Lock()
		err = fmt.Errorf("%d processes gone, %d left: %w", len(w.gone), len(w.inTree), err)
		w.mu.Unlock()
	}
	return last, err
}

// lostEvents says how many datagrams the kernel dropped (the figures
// taken from this watch may be wrong when it is not 0).
func (w *procWatch) lostEvents() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost
}

// treeWatch times the events of a supervisor's process tree: procWatch
// from the kernel's events, pollWatch where those are not available.
type treeWatch interface {
	// track adds pid and every process now under it.
	track(pid int)
	// execAt is when pid exec'd.
	execAt(pid int) (time.Duration, bool)
	// waitExecs waits for n execs of comm after since and returns the
	// time of the n-th.
	waitExecs(comm string, n int, since, d time.Duration) (time.Duration, error)
	// waitGone waits until every tracked process has exited and returns
	// when the last did.
	waitGone(d time.Duration) (time.Duration, error)
	// lostEvents is how many events were lost (the figures may be wrong
	// when it is not 0).
	lostEvents() int
	close()
}

// pollWatch is the fallback without the proc connector: it polls /proc
// every 2 ms for new processes (an exec is seen late by up to that, and
// the polling costs CPU beside what is measured), and waits for exits on
// pidfds (exact up to the poll's wake-up).
type pollWatch struct {
	root   int
	rootAt time.Duration    // when track first ran: the root had exec'd
	seenAt map[int]procSeen // by pid
}

type procSeen struct {
	comm string
	at   time.Duration
}

func newPollWatch() *pollWatch { return &pollWatch{seenAt: map[int]procSeen{}} }

func (w *pollWatch) track(pid int) {
	if w.root == 0 {
		w.root, w.rootAt = pid, monoNow()
	}
}

func (w *pollWatch) execAt(pid int) (time.Duration, bool) { return w.rootAt, pid == w.root }

func (w *pollWatch) waitExecs(comm string, n int, since, d time.Duration) (time.Duration, error) {
	deadline := monoNow() + d
	for {
		now := monoNow()
		for _, pid := range descendants(w.root) {
			if w.seenAt[pid].comm == comm {
				continue
			}
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			w.seenAt[pid] = procSeen{comm: strings.TrimSpace(string(b)), at: now}
		}
		var got []time.Duration
		for _, p := range w.seenAt {
			if p.comm == comm && p.at > since {
				got = append(got, p.at)
			}
		}
		if len(got) >= n {
			slices.Sort(got)
			return got[n-1], nil
		}
		if now > deadline {
			return 0, fmt.Errorf("%d of %d execs of %s after %s", len(got), n, comm, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (w *pollWatch) waitGone(d time.Duration) (time.Duration, error) {
	var fds []unix.PollFd
	for _, pid := range descendants(w.root) {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
	}
	defer func() {
		for _, p := range fds {
			if p.Fd >= 0 {
				unix.Close(int(p.Fd))
			}
		}
	}()
	var last time.Duration
	deadline := monoNow() + d
	for left := len(fds); left > 0; {
		if monoNow() > deadline {
			return 0, fmt.Errorf("%d of %d processes left after %s", left, len(fds), d)
		}
		if _, err := unix.Poll(fds, 100); err != nil && !errors.Is(err, unix.EINTR) {
			return 0, fmt.Errorf("poll pidfds: %w", err)
		}
		now := monoNow()
		for i := range fds {
			if fds[i].Fd >= 0 && fds[i].Revents != 0 {
				unix.Close(int(fds[i].Fd))
				fds[i].Fd = -1 // poll skips it from now on
				last, left = now, left-1
			}
		}
	}
	return last, nil
}

func (w *pollWatch) lostEvents() int { return 0 }
func (w *pollWatch) close()          {}

// --- the foreign CPU: what the rest of the machine used meanwhile ---

// cpuMark is the CPU used so far by the whole machine (/proc/stat) and by
// this benchmark with everything under it (the supervisors, their workers
// and jobs, the ctl commands), in clock ticks.
type cpuMark struct {
	at            time.Duration
	machine, ours float64
}

func markCPU() cpuMark {
	var m cpuMark
	for _, pid := range descendants(os.Getpid()) {
		// utime, stime, cutime, cstime (fields 14-17): a process reaped
		// inside the tree moves into its parent's cutime and cstime, so
		// the difference of two sums counts the processes gone between.
		f := statFields(pid)
		if len(f) < 15 {
			continue
		}
		for _, s := range f[14-3 : 17-3+1] {
			x, _ := strconv.ParseFloat(s, 64)
			m.ours += x
		}
	}
	// After the tree walk, so the walk's own cost is inside the window.
	m.machine = machineBusy()
	m.at = monoNow()
	return m
}

// machineBusy is the CPU time the machine spent not idle, in ticks.
func machineBusy() float64 {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal guest...
	var busy float64
	for i, s := range f {
		if i == 0 || i == 4 || i == 5 || i > 8 {
			continue
		}
		x, _ := strconv.ParseFloat(s, 64)
		busy += x
	}
	return busy
}

// foreignSince is the CPU used since m by processes that are not this
// benchmark's, in CPUs (1.0: one core busy all along).
func foreignSince(m cpuMark) float64 {
	now := markCPU()
	secs := (now.at - m.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return max(0, (now.machine-m.machine)-(now.ours-m.ours)) / clockTicks / secs
}

// TestParseProcEvents decodes a datagram holding a fork, an exec, an exit
// and a listen acknowledgement, as the kernel lays them out.
func TestParseProcEvents(t *testing.T) {
	le := byteorder.NativeEndian
	msg := func(what uint32, at uint64, data ...uint32) []byte {
		b := make([]byte, nlmsgHdrLen+cnMsgLen+procEventDataOff+24)
		le.PutUint32(b[0:], uint32(len(b)))
		cn := b[nlmsgHdrLen:]
		le.PutUint32(cn[0:], cnIdxProc)
		le.PutUint32(cn[4:], cnValProc)
		ev := cn[cnMsgLen:]
		le.PutUint32(ev[0:], what)
		le.PutUint64(ev[8:], at)
		for i, d := range data {
			le.PutUint32(ev[procEventDataOff+4*i:], d)
		}
		return b
	}
	var buf []byte
	buf = append(buf, msg(procEventFork, 10, 100, 100, 200, 200)...)
	buf = append(buf, msg(0, 11)...) // PROC_EVENT_NONE: skipped
	buf = append(buf, msg(procEventExec, 20, 200, 200)...)
	buf = append(buf, msg(procEventExit, 30, 201, 200, 9, 17, 100, 100)...)
	got, err := parseProcEvents(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []procEvent{
		{kind: procEventFork, at: 10, pid: 200, tgid: 200, parent: 100},
		{kind: procEventExec, at: 20, pid: 200, tgid: 200},
		{kind: procEventExit, at: 30, pid: 201, tgid: 200, parent: 100},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if _, err := parseProcEvents(buf[:len(buf)-1]); err == nil {
		t.Fatal("a truncated message parsed without error")
	}
}

// TestProcWatchTree feeds events to a watch by hand: a child that execs
// before its fork event is reported, a reused pid whose earlier life must
// not count, and the tree empties as its processes exit. The pids are
// above any pid_max, so no /proc entry answers for them.
func TestProcWatchTree(t *testing.T) {
	const root, child, other = 5000001, 5000002, 5000003
	w := &procWatch{kids: map[int][]int{}, inTree: map[int]bool{}, stray: map[int][]procEvent{}, gone: map[int]bool{}}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.adopt(root)
	for _, e := range []procEvent{
		{kind: procEventExec, at: 1, pid: child, tgid: child},                // child's earlier life
		{kind: procEventExit, at: 2, pid: child, tgid: child, parent: other}, // ...ends
		{kind: procEventExec, at: 4, pid: child, tgid: child},                // the new child execs first
		{kind: procEventFork, at: 3, pid: child, tgid: child, parent: root},  // then its fork is reported
		{kind: procEventFork, at: 5, pid: other, tgid: other, parent: 1},     // not ours
		{kind: procEventExec, at: 6, pid: other, tgid: other},
	} {
		w.add(e)
	}
	if len(w.execs) != 1 || w.execs[0].at != 4 {
		t.Fatalf("execs of the tree: %+v, want the one at 4", w.execs)
	}
	if len(w.exits) != 0 || len(w.inTree) != 2 {
		t.Fatalf("exits %+v, tree %v: want none and root and child", w.exits, w.inTree)
	}
	w.add(procEvent{kind: procEventExit, at: 7, pid: child, tgid: child, parent: root})
	w.add(procEvent{kind: procEventExit, at: 8, pid: root, tgid: root})
	if len(w.inTree) != 0 || !w.gone[root] || !w.gone[child] {
		t.Fatalf("tree %v, gone %v: want empty, both gone", w.inTree, w.gone)
	}
}
