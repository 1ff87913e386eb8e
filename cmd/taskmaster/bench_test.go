package main

// Benchmarks of taskmaster against Debian's supervisord (when installed),
// run by `make bench`:
//
//	go test -run '^$' -bench . -benchtime 1x ./cmd/taskmaster
//
// BenchmarkFigures, last, measures every figure of issue 12's table for
// both supervisors in the same run, alternating, and prints one table:
// figure | supervisord | taskmaster | ratio | target | foreign CPU.
// BenchmarkExecBaseline and BenchmarkOutput print tables of their own.
//
// Times come from the kernel's process events (bench_procwatch_test.go)
// where a process starts or ends a figure, so nothing polls /proc while a
// figure is taken. The foreign CPU is what the rest of the machine used
// during each measurement, in CPUs: a loaded machine shows there.
//
// Environment:
//
//	TM_BENCH_ONLY      a comma-separated subset: start status sigterm
//	                   stopall restart pss fds ulimit ctlc idle exec output
//	TM_BENCH_N         programs of the large runs (default 1000)
//	TM_BENCH_ROUNDS    rounds of each figure (default 3; medians)
//	TM_BENCH_IDLE      the idle window (default 10s)
//	TM_BENCH_RESTARTS  kills of the restart figure (default 31)
//	TM_BENCH_POLL=1    poll /proc and pidfds instead of the process events
//	                   (what happens anyway where they are not available)

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	// settle lets an idle system finish its start-up work (GC, the
	// scavenger returning memory) before memory is measured.
	settle = 3 * time.Second
)

// tmConfig is n programs running `sleep 1000`, RUNNING as soon as exec'd.
func tmConfig(n int) string {
	var b strings.Builder
	b.WriteString("taskmaster:\n  logfile: taskmaster.log\n  rundir: run\nprograms:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  %s:\n    cmd: sleep 1000\n    starttime: 0\n    autorestart: always\n"+
			"    startretries: 1000\n    stoptime: 2\n", progName(n, i))
	}
	return b.String()
}

// sdPrograms is the same for supervisord.
func sdPrograms(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "[program:%s]\ncommand=sleep 1000\nstartsecs=0\nautorestart=true\n"+
			"startretries=1000\nstopwaitsecs=2\nstdout_logfile=NONE\nstderr_logfile=NONE\n\n", progName(n, i))
	}
	return b.String()
}

func progName(n, i int) string {
	if n == 1 {
		return "sleeper"
	}
	return fmt.Sprintf("p%04d", i)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func noSupervisord() { fmt.Println("supervisord: not available") }

// BenchmarkExecBaseline calibrates the machine: what one fork+exec+wait
// costs, for a C program and for each supervisor's own binary (the
// worker is taskmaster's binary, so this is the floor of a worker's
// start-up).
func BenchmarkExecBaseline(b *testing.B) {
	if !onlyFromEnv().want("exec") {
		b.Skip("not in TM_BENCH_ONLY")
	}
	t := newTable(b)
	execMs := func(name string, args ...string) float64 {
		var xs []float64
		for i := 0; i < 21; i++ {
			t0 := time.Now()
			if err := exec.Command(name, args...).Run(); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			xs = append(xs, ms(time.Since(t0)))
		}
		return percentile(xs, 0.5)
	}
	trueMs := execMs("/bin/true")
	tm := execMs(benchBinary(b), "version")
	var sd float64
	ok := haveSupervisord()
	if ok {
		sd = execMs("supervisord", "--version")
	} else {
		noSupervisord()
	}
	t.add("exec+wait /bin/true, ms (machine baseline)", "true_exec_ms", trueMs, trueMs, ok)
	t.add("exec+wait of the binary (version), ms", "version_exec_ms", tm, sd, ok)
	t.print()
}

// wakeups counts the wake-ups of pids (every thread's voluntary context
// switches) over d, per second: the total and the largest of any one pid.
func wakeups(pids []int, d time.Duration) (total, worst float64) {
	before := make([]map[int]int64, len(pids))
	for i, pid := range pids {
		before[i] = ctxSwitches(pid)
	}
	time.Sleep(d)
	for i, pid := range pids {
		w := float64(switchesSince(before[i], ctxSwitches(pid))) / d.Seconds()
		total += w
		worst = max(worst, w)
	}
	return total, worst
}

// pssBreakdown sums /proc/PID/smaps's Pss per kind of mapping: the
// binary's text, read-only data and data/bss, the anonymous memory (Go's
// heap, stacks and runtime structures), and the rest.
func pssBreakdown(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	sums := map[string]int{}
	var order []string
	kind := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && len(fields) >= 5 {
			// A mapping header: range perms offset dev inode [path].
			path := ""
			if len(fields) >= 6 {
				path = fields[5]
			}
			switch {
			case path == benchBin && strings.HasPrefix(fields[1], "r-x"):
				kind = "text"
			case path == benchBin && strings.HasPrefix(fields[1], "rw"):
				kind = "data"
			case path == benchBin:
				kind = "rodata"
			case path == "":
				kind = "anon"
			default:
				kind = path
			}
			if _, ok := sums[kind]; !ok {
				order = append(order, kind)
				sums[kind] = 0
			}
			continue
		}
		if fields[0] == "Pss:" && len(fields) >= 2 {
			n, _ := strconv.Atoi(fields[1])
			sums[kind] += n
		}
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s %d", k, sums[k]))
	}
	return strings.Join(parts, ", ")
}

// benchOnly is TM_BENCH_ONLY: want says whether any of keys was asked for
// (everything when the variable is empty).
type benchOnly map[string]bool

func onlyFromEnv() benchOnly {
	o := benchOnly{}
	for _, k := range strings.FieldsFunc(os.Getenv("TM_BENCH_ONLY"), func(r rune) bool { return r == ',' || r == ' ' }) {
		o[k] = true
	}
	return o
}

func (o benchOnly) want(keys ...string) bool {
	if len(o) == 0 {
		return true
	}
	for _, k := range keys {
		if o[k] {
			return true
		}
	}
	return false
}

// BenchmarkFigures measures issue 12's table. Each round runs, for each
// supervisor in turn (who goes first alternates):
//
//   - a large run (TM_BENCH_N programs): the supervisor's exec to the exec
//     of the last `sleep`; then, all RUNNING and settled, the master's PSS
//     (and the workers'), its fds, `ctl -c FILE status`; then SIGTERM to
//     the exit of the last thread of the tree;
//   - the same start-up with a status probe: getAllProcessInfo over
//     XML-RPC, one request at a time, back to back; the slowest answer;
//   - a small run (100 programs): idle wake-ups and the restart latency
//     (first round only), `stop all` until the ctl command returns, then
//     (after `start all`) SIGTERM to the last exit.
//
// Then, once each: the master's fds with no program (for fds per
// program) and a large run under `ulimit -n N+24`.
func BenchmarkFigures(b *testing.B) {
	only := onlyFromEnv()
	n := envInt("TM_BENCH_N", 1000)
	small := min(100, n)
	rounds := envInt("TM_BENCH_ROUNDS", 3)
	benchBinary(b)
	kinds := []string{"taskmaster"}
	if haveSupervisord() {
		kinds = append(kinds, "supervisord")
	} else {
		noSupervisord()
	}
	ft := newFigureTable(n, small)
	fdsAt := map[string][]float64{}
	for r := 0; r < rounds; r++ {
		for k := range kinds {
			kind := kinds[(r+k)%len(kinds)]
			if only.want("start", "sigterm", "pss", "fds", "ctlc") {
				if fds := largeRun(b, ft, only, kind, n); fds > 0 {
					fdsAt[kind] = append(fdsAt[kind], fds)
				}
			}
			if only.want("status") {
				statusRun(b, ft, kind, n)
			}
			if only.want("sigterm", "stopall", "restart", "idle") {
				smallRun(b, ft, only, kind, small, r == 0)
			}
		}
	}
	for _, kind := range kinds {
		if only.want("fds") && len(fdsAt[kind]) > 0 {
			zero := zeroRunFds(b, kind)
			ft.row("fds").add(kind, (percentile(fdsAt[kind], 0.5)-zero)/float64(n), -1)
		}
		if only.want("ulimit") {
			ulimitRun(b, ft, kind, n)
		}
	}
	fmt.Print(ft.format(fmt.Sprintf("issue 12 figures: %d programs, %d rounds, medians; foreign CPU in CPUs (sd / tm), %d CPUs here",
		n, rounds, runtime.NumCPU())))
}

// startKind starts a supervisor of n `sleep 1000` programs.
func startKind(b *testing.B, kind string, n int) *superProc {
	if kind == "taskmaster" {
		return benchMaster(b, tmConfig(n))
	}
	return benchSupervisord(b, sdPrograms(n), n)
}

// newWatch follows a supervisor's tree: with the kernel's process events,
// or by polling (TM_BENCH_POLL=1 forces it) when they are not available.
func newWatch(b *testing.B) treeWatch {
	b.Helper()
	var w treeWatch
	pw, err := newProcWatch()
	if os.Getenv("TM_BENCH_POLL") == "1" || err != nil {
		if err != nil {
			fmt.Printf("process events not available (%v): polling /proc and pidfds instead\n", err)
		}
		if pw != nil {
			pw.close()
		}
		w = newPollWatch()
	} else {
		w = pw
	}
	b.Cleanup(func() {
		w.close()
		if lost := w.lostEvents(); lost > 0 {
			fmt.Printf("%s: %d datagrams of process events lost: its figures may be wrong\n", b.Name(), lost)
		}
	})
	return w
}

// largeRun: start-up, memory, fds, ctl -c status and SIGTERM with n
// programs. It returns the master's fd count with n programs running.
func largeRun(b *testing.B, ft *figureTable, only benchOnly, kind string, n int) (fds float64) {
	w := newWatch(b)
	mark := markCPU()
	s := startKind(b, kind, n)
	w.track(s.pid)
	last, err := w.waitExecs("sleep", n, 0, 3*time.Minute)
	if err != nil {
		b.Fatalf("%s: %v\n%s", kind, err, s.out.String())
	}
	fg := foreignSince(mark)
	begin, ok := w.execAt(s.pid)
	if !ok {
		b.Fatalf("%s: its own exec was not seen", kind)
	}
	if only.want("start") {
		ft.row("start").add(kind, (last - begin).Seconds(), fg)
	}
	s.waitRunning(n, 3*time.Minute, nil)

	mark = markCPU()
	time.Sleep(settle)
	fg = foreignSince(mark)
	if only.want("pss") {
		ft.row("pss-master").add(kind, rollup(s.pid, "Pss")/1024, fg)
		if kind == "taskmaster" {
			var pss []float64
			workers := children(s.pid)
			for _, w := range workers {
				pss = append(pss, rollup(w, "Pss"))
			}
			ft.row("pss-worker").add(kind, percentile(pss, 0.5)/1024, fg)
			if len(workers) > 0 {
				fmt.Printf("one worker's PSS by mapping (KiB): %s\n", pssBreakdown(workers[len(workers)/2]))
			}
		}
	}
	fds = float64(countFds(s.pid))

	if only.want("ctlc") {
		mark = markCPU()
		var times []float64
		for range 5 {
			times = append(times, ctlFileStatus(b, s, n))
		}
		ft.row("ctlc").add(kind, percentile(times, 0.5), foreignSince(mark))
	}
	if only.want("sigterm") {
		d, fg := sigtermGone(b, s, w)
		ft.row("sigterm-large").add(kind, d.Seconds(), fg)
	}
	s.stop()
	return fds
}

// sigtermGone sends SIGTERM to the supervisor and times it until the last
// thread of its tree has exited.
func sigtermGone(b *testing.B, s *superProc, w treeWatch) (time.Duration, float64) {
	mark := markCPU()
	t0 := monoNow()
	if err := syscall.Kill(s.pid, syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	last, err := w.waitGone(2 * time.Minute)
	if err != nil {
		b.Fatalf("%s: %v", s.kind, err)
	}
	<-s.exited // reaped: its CPU is in ours
	return last - t0, foreignSince(mark)
}

// ctlFileStatus times the status command given the config file, as a
// user types it, and checks it shows n RUNNING.
func ctlFileStatus(b *testing.B, s *superProc, n int) float64 {
	cmd := exec.Command(benchBin, "ctl", "-c", s.cfg, "status")
	if s.kind == "supervisord" {
		cmd = exec.Command("supervisorctl", "-c", s.cfg, "status")
	}
	t0 := time.Now()
	out, _ := cmd.Output()
	d := ms(time.Since(t0))
	if got := strings.Count(string(out), "RUNNING"); got != n {
		b.Fatalf("%s: status shows %d RUNNING, want %d:\n%s", s.kind, got, n, out)
	}
	return d
}

// statusRun: the slowest getAllProcessInfo answer while n programs start.
func statusRun(b *testing.B, ft *figureTable, kind string, n int) {
	w := newWatch(b)
	mark := markCPU()
	s := startKind(b, kind, n)
	w.track(s.pid)
	p := startProbe(s.rpcSocket())
	_, err := w.waitExecs("sleep", n, 0, 3*time.Minute)
	slowest, answers, perr := p.stop()
	fg := foreignSince(mark)
	if err != nil {
		b.Fatalf("%s: %v", kind, err)
	}
	if perr != nil {
		b.Fatalf("%s: status probe: %v", kind, perr)
	}
	fmt.Printf("%s: %d status answers during the start-up of %d\n", kind, answers, n)
	ft.row("status").add(kind, ms(slowest), fg)
	s.stop()
}

// statusProbe asks for getAllProcessInfo over and over, one request at a
// time, and keeps the slowest answer. A refused connection is retried
// and counts in the time of the request; so does a request still waiting
// when the probe stops.
type statusProbe struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	since   time.Time // of the request in flight, if any
	slowest time.Duration
	answers int
	err     error
}

func startProbe(sock string) *statusProbe {
	ctx, cancel := context.WithCancel(context.Background())
	p := &statusProbe{cancel: cancel, done: make(chan struct{})}
	go p.run(ctx, sock)
	return p
}

func (p *statusProbe) run(ctx context.Context, sock string) {
	defer close(p.done)
	pause := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Millisecond):
			return true
		}
	}
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if !pause() {
			return
		}
	}
	c := rpcClient(sock)
	for {
		p.mu.Lock()
		p.since = time.Now()
		p.mu.Unlock()
		for {
			_, err := rpcAllProcessInfo(ctx, c)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				break
			}
			if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOENT) {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
				return
			}
			if !pause() {
				return
			}
		}
		p.mu.Lock()
		p.slowest = max(p.slowest, time.Since(p.since))
		p.since = time.Time{}
		p.answers++
		p.mu.Unlock()
	}
}

// stop ends the probe: the slowest answer, or the wait of the request in
// flight if longer; the number of answers.
func (p *statusProbe) stop() (time.Duration, int, error) {
	p.mu.Lock()
	slowest := p.slowest
	if !p.since.IsZero() {
		slowest = max(slowest, time.Since(p.since))
	}
	p.mu.Unlock()
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return slowest, p.answers, p.err
}

// smallRun: with n (100) programs, idle wake-ups and restart latency
// (when first), `stop all`, then SIGTERM.
func smallRun(b *testing.B, ft *figureTable, only benchOnly, kind string, n int, first bool) {
	w := newWatch(b)
	s := startKind(b, kind, n)
	w.track(s.pid)
	if _, err := w.waitExecs("sleep", n, 0, 3*time.Minute); err != nil {
		b.Fatalf("%s: %v", kind, err)
	}
	s.waitRunning(n, 3*time.Minute, nil)
	if first && only.want("idle") {
		window := envDuration("TM_BENCH_IDLE", 10*time.Second)
		time.Sleep(settle) // start-up's timers run out
		pids := []int{s.pid}
		if kind == "taskmaster" {
			pids = append(pids, children(s.pid)...)
		}
		mark := markCPU()
		total, worst := wakeups(pids, window)
		fg := foreignSince(mark)
		ft.row("idle").add(kind, total, fg)
		if kind == "taskmaster" {
			ft.row("idle-worst").add(kind, worst, fg)
		}
	}
	if first && only.want("restart") {
		restarts(b, ft, s, w, n)
	}
	if only.want("stopall") {
		mark := markCPU()
		d := ctlRun(b, s, "stop", "all")
		fg := foreignSince(mark)
		ft.row("stopall").add(kind, d.Seconds(), fg)
		if got := s.countState("STOPPED"); got != n {
			b.Fatalf("%s: %d STOPPED after stop all, want %d", kind, got, n)
		}
		ctlRun(b, s, "start", "all")
		s.waitRunning(n, 3*time.Minute, nil)
	}
	if only.want("sigterm") {
		d, fg := sigtermGone(b, s, w)
		ft.row("sigterm-small").add(kind, d.Seconds(), fg)
	}
	s.stop()
}

// ctlRun times a ctl command (taskmaster ctl -c, supervisorctl -c) until
// it returns.
func ctlRun(b *testing.B, s *superProc, args ...string) time.Duration {
	cmd := exec.Command(benchBin, append([]string{"ctl", "-c", s.cfg}, args...)...)
	if s.kind == "supervisord" {
		cmd = exec.Command("supervisorctl", append([]string{"-c", s.cfg}, args...)...)
	}
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(t0)
	if err != nil {
		b.Fatalf("%s: %v: %v\n%s", s.kind, cmd.Args, err, out)
	}
	return d
}

// restarts kills one job TM_BENCH_RESTARTS times with SIGKILL and times
// each kill until its replacement's exec.
func restarts(b *testing.B, ft *figureTable, s *superProc, w treeWatch, n int) {
	kills := envInt("TM_BENCH_RESTARTS", 31)
	name := progName(n, 0)
	var lat []float64
	mark := markCPU()
	for range kills {
		old := s.rpcStatus()[name].Pid
		if old == 0 {
			b.Fatalf("%s: %s has no pid", s.kind, name)
		}
		t0 := monoNow()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		at, err := w.waitExecs("sleep", 1, t0, 30*time.Second)
		if err != nil {
			b.Fatalf("%s: no replacement of %s: %v", s.kind, name, err)
		}
		lat = append(lat, ms(at-t0))
		// An exit before the supervisor saw the replacement RUNNING
		// would be a failed start, with a backoff: wait for RUNNING.
		s.waitRunning(n, 30*time.Second, func(st map[string]procInfo) bool {
			return st[name].Pid != old
		})
	}
	fg := foreignSince(mark)
	ft.row("restart-p50").add(s.kind, percentile(lat, 0.5), fg)
	ft.row("restart-p99").add(s.kind, percentile(lat, 0.99), fg)
}

// zeroRunFds is the master's fd count with no program.
func zeroRunFds(b *testing.B, kind string) float64 {
	s := startKind(b, kind, 0)
	s.waitRunning(0, time.Minute, nil)
	time.Sleep(settle)
	fds := countFds(s.pid)
	s.stop()
	return float64(fds)
}

func countFds(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// ulimitRun starts n programs under `ulimit -n n+24` (1024 for 1000) and
// counts those RUNNING once the count stops growing.
func ulimitRun(b *testing.B, ft *figureTable, kind string, n int) {
	limit := n + 24
	wrap := []string{"prlimit", fmt.Sprintf("--nofile=%d:%d", limit, limit), "--"}
	mark := markCPU()
	var s *superProc
	if kind == "taskmaster" {
		s = benchMasterWrapped(b, tmConfig(n), wrap)
	} else {
		s = supervisordIn(b, sdPrograms(n), limit, wrap)
	}
	running, stable := -1, 0
	deadline := time.Now().Add(2 * time.Minute)
	for stable < 5 && running < n && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		got := s.countState("RUNNING")
		if got == running && got >= 0 {
			stable++
		} else {
			running, stable = got, 0
		}
	}
	ft.row("ulimit").add(kind, float64(running), foreignSince(mark))
	s.stop()
}

// --- the table ---

// figure is one row of the table: the value of each round for each
// supervisor, and the foreign CPU seen while it was taken (-1: none).
type figure struct {
	key, label, target string
	vals, foreign      map[string][]float64
}

func (f *figure) add(kind string, v, foreign float64) {
	f.vals[kind] = append(f.vals[kind], v)
	if foreign >= 0 {
		f.foreign[kind] = append(f.foreign[kind], foreign)
	}
}

type figureTable struct{ rows []*figure }

// newFigureTable lays out the rows in the order, with n programs
// in the large runs and small in the small ones.
func newFigureTable(n, small int) *figureTable {
	t := &figureTable{}
	add := func(key, label, target string) {
		t.rows = append(t.rows, &figure{key: key, label: label, target: target,
			vals: map[string][]float64{}, foreign: map[string][]float64{}})
	}
	add("start", fmt.Sprintf("%d programs, all exec'd, s", n), "≤ 0.5× sd; ≤ 3 s quiet")
	add("status", "slowest status answer during that start-up, ms", "≤ 100")
	add("sigterm-small", fmt.Sprintf("SIGTERM → all gone, %d programs, s", small), "≤ 0.15 (100)")
	add("sigterm-large", fmt.Sprintf("SIGTERM → all gone, %d programs, s", n), "≤ 1.0 (1000)")
	add("stopall", fmt.Sprintf("`stop all`, %d programs, ctl returns, s", small), "≤ 0.12 (100)")
	add("restart-p50", "restart after kill -9, p50, ms", "≤ 1.0")
	add("restart-p99", "restart after kill -9, p99, ms", "≤ 3.0")
	add("pss-master", fmt.Sprintf("master PSS, %d programs, MiB", n), "≤ 25 (sd: all of it)")
	add("pss-worker", "worker PSS (median), MiB", "≤ 0.75")
	add("fds", "master fds per program", "1")
	add("ulimit", fmt.Sprintf("RUNNING of %d under `ulimit -n %d`", n, n+24), fmt.Sprintf("all %d", n))
	add("ctlc", fmt.Sprintf("`ctl -c FILE status`, %d processes, ms", n), "≤ 20 (1000)")
	// The runtime's floor: sysmon wakes each idle Go process once a
	// minute (half the forced-GC period); the master and small workers.
	add("idle", fmt.Sprintf("idle wake-ups/s, %d programs, all supervisor processes", small),
		fmt.Sprintf("≤ %.2f (1/min each)", float64(small+1)/60))
	add("idle-worst", "idle wake-ups/s, busiest process", "-")
	return t
}

// row returns the row of key.
func (t *figureTable) row(key string) *figure {
	for _, r := range t.rows {
		if r.key == key {
			return r
		}
	}
	panic("no figure " + key)
}

func (t *figureTable) format(title string) string {
	med := func(xs []float64) string {
		if len(xs) == 0 {
			return "n/a"
		}
		return fmtFig(percentile(xs, 0.5))
	}
	cells := [][]string{{"figure", "supervisord", "taskmaster", "ratio (tm/sd)", "issue target", "foreign CPU (sd / tm)"}}
	for _, r := range t.rows {
		tm, sd := r.vals["taskmaster"], r.vals["supervisord"]
		if len(tm)+len(sd) == 0 {
			continue // not measured (TM_BENCH_ONLY)
		}
		ratio := "-"
		if len(tm) > 0 && len(sd) > 0 && percentile(sd, 0.5) != 0 {
			ratio = fmtFig(percentile(tm, 0.5)/percentile(sd, 0.5)) + "×"
		}
		fg := "-"
		if len(r.foreign["taskmaster"])+len(r.foreign["supervisord"]) > 0 {
			fg = med(r.foreign["supervisord"]) + " / " + med(r.foreign["taskmaster"])
		}
		cells = append(cells, []string{r.label, med(sd), med(tm), ratio, r.target, fg})
	}
	w := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	var buf strings.Builder
	fmt.Fprintf(&buf, "\n%s\n", title)
	for j, row := range cells {
		for i, c := range row {
			pad := strings.Repeat(" ", w[i]-utf8.RuneCountInString(c))
			if i > 0 {
				buf.WriteString(" | ")
			}
			switch {
			case i == len(row)-1:
				buf.WriteString(c)
			case i == 0 || i >= 4:
				buf.WriteString(c + pad)
			default:
				buf.WriteString(pad + c)
			}
		}
		buf.WriteString("\n")
		if j == 0 {
			for i := range row {
				if i > 0 {
					buf.WriteString("-|-")
				}
				buf.WriteString(strings.Repeat("-", w[i]))
			}
			buf.WriteString("\n")
		}
	}
	return buf.String()
}
