package main

// Benchmarks of taskmaster against Debian's supervisord (when installed),
// run by `make bench`:
//
//	go test -run '^$' -bench . -benchtime 1x ./cmd/taskmaster
//
// Each benchmark measures once (-benchtime 1x) and reports its figures
// with b.ReportMetric (tm_* for taskmaster, sd_* for supervisord) and as a
// `metric | taskmaster | supervisord` table on stdout; BenchmarkSummary,
// last, prints every table row again in one table.
//
// Environment: TM_BENCH_IDLE (default 10s) is the idle window,
// TM_BENCH_RESTARTS (default 21) the number of kills.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	pollEvery = time.Millisecond // /proc polling for restart latency
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

// BenchmarkRestartLatency: kill -9 of a RUNNING job until its replacement
// has exec'd (a new child of the worker / of supervisord whose cmdline is
// `sleep 1000`), polling /proc every millisecond.
func BenchmarkRestartLatency(b *testing.B) {
	n := envInt("TM_BENCH_RESTARTS", 21)
	t := newTable(b)
	tm := restartLatencies(b, benchMaster(b, tmConfig(1)), n)
	var sd []float64
	ok := haveSupervisord()
	if ok {
		sd = restartLatencies(b, benchSupervisord(b, sdPrograms(1), 1), n)
	} else {
		noSupervisord()
	}
	t.add("restart latency p50, ms (target < 5)", "restart_p50_ms", percentile(tm, 0.5), percentile(sd, 0.5), ok)
	t.add("restart latency p90, ms", "restart_p90_ms", percentile(tm, 0.9), percentile(sd, 0.9), ok)
	t.add("restart latency max, ms", "restart_max_ms", percentile(tm, 1), percentile(sd, 1), ok)
	t.print()
}

func restartLatencies(b *testing.B, s *superProc, n int) []float64 {
	b.Helper()
	s.waitJobs(1, pollEvery, 30*time.Second)
	s.waitRunning(1, 30*time.Second, nil)
	var lat []float64
	for i := 0; i < n; i++ {
		parents := s.jobParents()
		if len(parents) != 1 {
			b.Fatalf("%s: %d job parents, want 1", s.kind, len(parents))
		}
		parent := parents[0]
		old := sleepChild(parent, 0)
		if old == 0 {
			b.Fatalf("%s: no job under %d", s.kind, parent)
		}
		t0 := time.Now()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		var next int
		for next = sleepChild(parent, old); next == 0; next = sleepChild(parent, old) {
			if time.Since(t0) > 20*time.Second {
				b.Fatalf("%s: no new job 20s after killing %d", s.kind, old)
			}
			time.Sleep(pollEvery)
		}
		lat = append(lat, ms(time.Since(t0)))
		// An exit before the supervisor saw the replacement RUNNING
		// would be a failed start, with a backoff: wait for RUNNING.
		if s.kind == "supervisord" {
			deadline := time.Now().Add(30 * time.Second)
			for s.sdRunningEvents("sleeper") < i+2 {
				if time.Now().After(deadline) {
					b.Fatalf("supervisord: sleeper not RUNNING again")
				}
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		s.waitRunning(1, 30*time.Second, func(st map[string]procInfo) bool {
			return st["sleeper"].Pid == next
		})
	}
	s.stop()
	return lat
}

// BenchmarkStartup: from the exec of the supervisor to every job exec'd
// (polling /proc every 2 ms), then to every process RUNNING as its status
// command says (polled only after that, so it does not slow the start).
func BenchmarkStartup(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			target := map[int]string{100: " (target < 500)", 1000: " (target < 5000)"}[n]
			t := newTable(b)
			tmExec, tmRun, tmStop := startup(b, benchMaster(b, tmConfig(n)), n)
			var sdExec, sdRun, sdStop time.Duration
			ok := haveSupervisord()
			if ok {
				sdExec, sdRun, sdStop = startup(b, benchSupervisord(b, sdPrograms(n), n), n)
			} else {
				noSupervisord()
			}
			t.add(fmt.Sprintf("start %d: all jobs exec'd, ms%s", n, target), "exec_ms", ms(tmExec), ms(sdExec), ok)
			t.add(fmt.Sprintf("start %d: all RUNNING per status, ms", n), "running_ms", ms(tmRun), ms(sdRun), ok)
			t.add(fmt.Sprintf("shutdown %d: SIGTERM to all gone, ms", n), "shutdown_ms", ms(tmStop), ms(sdStop), ok)
			t.print()
		})
	}
}

func startup(b *testing.B, s *superProc, n int) (execd, running, shutdown time.Duration) {
	b.Helper()
	execd = s.waitJobs(n, 2*time.Millisecond, 120*time.Second).Sub(s.started)
	running = s.waitRunning(n, 120*time.Second, nil).Sub(s.started)
	t0 := time.Now()
	s.stop()
	return execd, running, time.Since(t0)
}

// idleSystem starts n jobs, waits until all are RUNNING, then lets it
// settle for d.
func idleSystem(b *testing.B, s *superProc, n int, d time.Duration) *superProc {
	b.Helper()
	s.waitJobs(n, 5*time.Millisecond, 120*time.Second)
	s.waitRunning(n, 120*time.Second, nil)
	time.Sleep(d)
	return s
}

// wakeups counts the context switches of pids (every thread) over d, per
// second: the total and the largest of any one pid.
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

// BenchmarkIdleWakeups: context switches (voluntary + involuntary, every
// thread) of the supervisor's own processes, 100 jobs: first over the
// `tail` seconds right after all are RUNNING (what start-up leaves
// behind: timers still armed), then over the idle window.
func BenchmarkIdleWakeups(b *testing.B) {
	const n = 100
	const tail = 8 * time.Second // longer than any send timeout
	window := envDuration("TM_BENCH_IDLE", 10*time.Second)
	t := newTable(b)
	s := idleSystem(b, benchMaster(b, tmConfig(n)), n, 0)
	workers := children(s.pid)
	if len(workers) != n {
		b.Fatalf("%d workers, want %d", len(workers), n)
	}
	tmTail, _ := wakeups(append([]int{s.pid}, workers...), tail)
	// One window for all: the master's count is taken around the workers'.
	before := ctxSwitches(s.pid)
	tmWorkers, tmWorst := wakeups(workers, window)
	tmMaster := float64(switchesSince(before, ctxSwitches(s.pid))) / window.Seconds()
	s.stop()

	var sdTail, sdWake float64
	ok := haveSupervisord()
	if ok {
		s := idleSystem(b, benchSupervisord(b, sdPrograms(n), n), n, 0)
		sdTail, _ = wakeups([]int{s.pid}, tail)
		sdWake, _ = wakeups([]int{s.pid}, window)
		s.stop()
	} else {
		noSupervisord()
	}
	t.add(fmt.Sprintf("wakeups/s, first %s after all RUNNING, everything", tail), "tail_wakeups_per_s", tmTail, sdTail, ok)
	t.add(fmt.Sprintf("idle wakeups/s over %s: master / supervisord", window), "master_wakeups_per_s", tmMaster, sdWake, ok)
	t.addTM("idle wakeups/s: all 100 workers together", "workers_wakeups_per_s", tmWorkers)
	t.addTM("idle wakeups/s: busiest worker", "worker_max_wakeups_per_s", tmWorst)
	t.add("idle wakeups/s: everything (target ~0)", "total_wakeups_per_s", tmMaster+tmWorkers, sdWake, ok)
	t.print()
}

// BenchmarkMemory: proportional set size (/proc/PID/smaps_rollup) of the
// idle supervisor with 100 jobs; the jobs themselves are not counted.
func BenchmarkMemory(b *testing.B) {
	const n = 100
	const mib = 1024
	t := newTable(b)
	s := idleSystem(b, benchMaster(b, tmConfig(n)), n, settle)
	workers := children(s.pid)
	var pss, rss, priv []float64
	var total float64
	for _, w := range workers {
		p := rollup(w, "Pss")
		pss = append(pss, p)
		rss = append(rss, rollup(w, "Rss"))
		priv = append(priv, rollup(w, "Private_Clean")+rollup(w, "Private_Dirty"))
		total += p
	}
	master := rollup(s.pid, "Pss")
	total += master
	breakdown := pssBreakdown(workers[len(workers)/2])
	s.stop()

	var sd float64
	ok := haveSupervisord()
	if ok {
		s := idleSystem(b, benchSupervisord(b, sdPrograms(n), n), n, settle)
		sd = rollup(s.pid, "Pss")
		s.stop()
	} else {
		noSupervisord()
	}
	t.addTM("PSS MiB, one worker, median of 100 (target < 1.5)", "worker_pss_mib", percentile(pss, 0.5)/mib)
	t.addTM("PSS MiB, one worker, max", "worker_pss_max_mib", percentile(pss, 1)/mib)
	t.addTM("RSS MiB, one worker, median", "worker_rss_mib", percentile(rss, 0.5)/mib)
	t.addTM("private MiB, one worker, median", "worker_private_mib", percentile(priv, 0.5)/mib)
	t.add("PSS MiB, master / supervisord", "master_pss_mib", master/mib, sd/mib, ok)
	t.add("PSS MiB, master + 100 workers / supervisord", "total_pss_mib", total/mib, sd/mib, ok)
	t.print()
	fmt.Printf("one worker's PSS by mapping (KiB): %s\n", breakdown)
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

// BenchmarkSummary must stay last: it prints every row the benchmarks
// above collected as one table.
func BenchmarkSummary(b *testing.B) {
	tableMu.Lock()
	defer tableMu.Unlock()
	if len(tableRows) > 0 {
		fmt.Print(formatTable("taskmaster vs supervisord", tableRows))
	}
}

// BenchmarkSupervisorctlStatus times stock supervisorctl's `status` of
// 1000 RUNNING processes, against taskmaster's XML-RPC socket and against
// supervisord's: what a supervisor user's scripts and dashboards pay.
func BenchmarkSupervisorctlStatus(b *testing.B) {
	const n = 1000
	if _, err := exec.LookPath("supervisorctl"); err != nil {
		b.Skip("SKIP: supervisorctl not installed")
	}
	statusMs := func(s *superProc, sock string) float64 {
		s.waitJobs(n, 5*time.Millisecond, 120*time.Second)
		s.waitRunning(n, 120*time.Second, nil)
		var times []float64
		for range 7 {
			t0 := time.Now()
			out, _ := exec.Command("supervisorctl", "-s", "unix://"+sock, "status").Output()
			times = append(times, ms(time.Since(t0)))
			if got := strings.Count(string(out), "RUNNING"); got != n {
				b.Fatalf("%s: supervisorctl status shows %d RUNNING, want %d", s.kind, got, n)
			}
		}
		s.stop()
		return percentile(times, 0.5)
	}
	t := newTable(b)
	tm := benchMaster(b, tmConfig(n))
	tmMs := statusMs(tm, filepath.Join(tm.dir, "run", "supervisor.sock"))
	var sdMs float64
	ok := haveSupervisord()
	if ok {
		sd := benchSupervisord(b, sdPrograms(n), n)
		sdMs = statusMs(sd, filepath.Join(sd.dir, "supervisor.sock"))
	} else {
		noSupervisord()
	}
	t.add(fmt.Sprintf("supervisorctl status of %d, ms (p50 of 7)", n), "sctl_status_ms", tmMs, sdMs, ok)
	t.print()
}
