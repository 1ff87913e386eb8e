package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOutput: a job writing 1 GiB to stdout, redirected to a file.
//
// Each repetition runs, side by side and in a rotating order, the same dd
// three ways: a shell redirecting it straight to the file (the baseline),
// taskmaster (stdout: FILE, the worker splices pipe → file) and
// supervisord (stdout_logfile=FILE, supervisord reads the pipe and writes).
// Every supervisor is started with the program stopped and idle; the job
// is then started (ctl start / supervisord's startProcess XML-RPC), so
// start-up work is not counted.
//
//   - wall: from the job's spawn to its exit with the file complete, from
//     the supervisor's own log lines (millisecond timestamps): taskmaster's
//     "spawned" and "exited" events (a worker reports an exit only once
//     both pipes are at EOF, so the file is complete by then); for
//     supervisord, its "spawned:" line to the later of its "exited:" line
//     and the moment the file was seen at 1 GiB (it may log the exit
//     before it has drained the pipe). The shell: exec to exit.
//   - worker CPU: the master's cutime+cstime delta (fields 16, 17 of
//     /proc/PID/stat: the reaped worker plus the job it reaped, exact)
//     minus the job's utime+stime, read from dd's /proc stat every 5 ms
//     while it lives. The job's last few ms are missed, so this errs a
//     little high. (The worker's own stat, read the same way, is printed
//     too: it misses the worker's last moments, so errs low.)
//   - master / supervisord CPU: utime+stime delta of the process from just
//     before the start request to after the exit (and, for taskmaster,
//     after the worker was reaped).
//
// Then the status latency during a flood: a job runs `cat /dev/zero` with
// stdout discarded (the worker reads it into its ring as fast as it can),
// and 20 `taskmaster ctl status` calls are timed, exec to exit (and 20
// before the flood, as a reference); supervisord gets the same job
// (stdout_logfile=NONE: it still drains the pipe) and supervisorctl.
//
// TM_BENCH_OUTPUT_REPS (default 3) sets the number of repetitions; the
// medians are reported. Needs 3 GiB free in the temp folder.
func BenchmarkOutput(b *testing.B) {
	if !onlyFromEnv().want("output") {
		b.Skip("not in TM_BENCH_ONLY")
	}
	const need = 3 << 30
	if free := freeBytes(os.TempDir()); free < need {
		fmt.Printf("BenchmarkOutput: skipped, only %.1f GiB free in %s (needs 3)\n", float64(free)/(1<<30), os.TempDir())
		b.Skipf("only %d bytes free in %s", free, os.TempDir())
	}
	reps := envInt("TM_BENCH_OUTPUT_REPS", 3)
	sdOK := haveSupervisord()
	if !sdOK {
		noSupervisord()
	}
	benchBinary(b)
	t := newTable(b)

	// The first 1 GiB written on a fresh VM can be several times slower
	// (the host backing guest memory): warm up once, unmeasured.
	shellOutputRun(b)

	var shell, tm, sd []outputRun
	kinds := []string{"shell", "taskmaster", "supervisord"}
	for i := 0; i < reps; i++ {
		for k := range kinds {
			switch kinds[(i+k)%len(kinds)] {
			case "shell":
				shell = append(shell, shellOutputRun(b))
			case "taskmaster":
				tm = append(tm, tmOutputRun(b))
			case "supervisord":
				if sdOK {
					sd = append(sd, sdOutputRun(b))
				}
			}
		}
	}
	for i := range shell {
		line := fmt.Sprintf("run %d: shell %.3fs, job %.3fs", i+1, shell[i].wall, shell[i].job)
		line += fmt.Sprintf(" | taskmaster %.3fs, worker %.3fs (sampled %.3fs), master %.0fms, master's children %.3fs, job %.3fs",
			tm[i].wall, tm[i].cpu, tm[i].sampled, tm[i].master*1000, tm[i].children, tm[i].job)
		if sdOK {
			line += fmt.Sprintf(" | supervisord %.3fs, cpu %.3fs, job %.3fs", sd[i].wall, sd[i].cpu, sd[i].job)
		}
		fmt.Println(line)
	}

	med := func(rs []outputRun, f func(outputRun) float64) float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return percentile(xs, 0.5)
	}
	wall := func(r outputRun) float64 { return r.wall }
	cpu := func(r outputRun) float64 { return r.cpu }
	job := func(r outputRun) float64 { return r.job }
	// The ratio of each repetition to the shell run beside it.
	ratio := func(rs []outputRun) float64 {
		var xs []float64
		for i, r := range rs {
			xs = append(xs, r.wall/shell[i].wall)
		}
		return percentile(xs, 0.5)
	}
	base := med(shell, wall)
	t.add("1 GiB to file: wall s (shell baseline)", "gib_shell_wall_s", base, base, sdOK)
	t.add("1 GiB to file: wall s (taskmaster | supervisord)", "gib_wall_s", med(tm, wall), med(sd, wall), sdOK)
	t.add("1 GiB to file: ratio to shell (target <= 1.25)", "gib_wall_ratio", ratio(tm), ratio(sd), sdOK)
	t.add("1 GiB to file: worker / supervisord CPU s (target < 0.3)", "gib_cpu_s", med(tm, cpu), med(sd, cpu), sdOK)
	t.addTM("1 GiB to file: master CPU ms (target < 50)", "gib_master_cpu_ms", med(tm, func(r outputRun) float64 { return r.master * 1000 }))
	t.add("1 GiB to file: the job's own CPU s (dd into the pipe)", "gib_job_cpu_s", med(tm, job), med(sd, job), sdOK)

	tmIdle, tmFlood, tmCPU, tmWorker := tmStatusFlood(b)
	var sdIdle, sdFlood []float64
	var sdCPU float64
	if sdOK {
		sdIdle, sdFlood, sdCPU = sdStatusFlood(b)
	}
	t.add("status, idle: median ms", "status_idle_p50_ms", percentile(tmIdle, 0.5), percentile(sdIdle, 0.5), sdOK)
	t.add("status during a flood: median ms (target < 100)", "status_flood_p50_ms", percentile(tmFlood, 0.5), percentile(sdFlood, 0.5), sdOK)
	t.add("status during a flood: max ms (target < 100)", "status_flood_max_ms", percentile(tmFlood, 1), percentile(sdFlood, 1), sdOK)
	t.add("flood: master / supervisord CPU % over the 20 calls", "flood_cpu_pct", tmCPU, sdCPU, sdOK)
	t.addTM("flood: worker CPU % over the 20 calls", "flood_worker_cpu_pct", tmWorker)
	t.print()
}

const (
	gibBytes = 1 << 30
	ddGiB    = "dd if=/dev/zero bs=1M count=1024 status=none"
)

// outputRun is one 1 GiB run. Times in seconds.
type outputRun struct {
	wall     float64
	cpu      float64 // the worker's, or supervisord's
	sampled  float64 // the worker's, last read of its own /proc stat
	master   float64 // taskmaster's master
	children float64 // the master's cutime+cstime delta: worker + job
	job      float64 // the job's own CPU
}

func shellOutputRun(b *testing.B) outputRun {
	b.Helper()
	dir := b.TempDir()
	file := filepath.Join(dir, "out.log")
	cmd := exec.Command("sh", "-c", ddGiB+" > "+file)
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("shell: %v\n%s", err, out)
	}
	wall := time.Since(t0).Seconds()
	ps := cmd.ProcessState
	checkGiB(b, file)
	os.Remove(file)
	settleDisk()
	return outputRun{wall: wall, job: (ps.UserTime() + ps.SystemTime()).Seconds()}
}

func tmOutputRun(b *testing.B) outputRun {
	b.Helper()
	s := benchMaster(b, "taskmaster:\n  logfile: taskmaster.log\n  rundir: run\nprograms:\n"+
		"  gib:\n    cmd: "+ddGiB+"\n    autostart: false\n    autorestart: never\n    starttime: 0\n"+
		"    stdout: out.log\n    stdout_maxbytes: 0\n")
	file := filepath.Join(s.dir, "out.log")
	defer os.Remove(file)
	waitStopped(b, s, "gib")
	time.Sleep(200 * time.Millisecond)
	m0, ok := readCPU(s.pid)
	if !ok {
		b.Fatalf("taskmaster: no /proc stat for the master")
	}
	ctl := exec.Command(benchBin, "ctl", "-c", s.cfg, "start", "gib")
	if err := ctl.Start(); err != nil {
		b.Fatal(err)
	}
	evlog := filepath.Join(s.dir, "taskmaster.log")
	worker, job := 0, 0
	var last, jobLast cpuTimes
	deadline := time.Now().Add(2 * time.Minute)
	exited := false
	for {
		if worker == 0 {
			for _, k := range children(s.pid) {
				if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", k)); exe == benchBin {
					worker = k
				}
			}
		}
		if worker != 0 && job == 0 {
			for _, k := range children(worker) {
				if isDD(k) {
					job = k
				}
			}
		}
		if job != 0 {
			if c, ok := readCPU(job); ok {
				jobLast = c
			}
		}
		if worker != 0 {
			c, ok := readCPU(worker)
			if !ok {
				break // reaped
			}
			last = c
		}
		if !exited {
			lg, _ := os.ReadFile(evlog)
			exited = bytes.Contains(lg, []byte(": exited"))
			if exited && worker == 0 {
				b.Fatalf("taskmaster: the job exited but no worker was seen\n%s", lg)
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("taskmaster: no exit after 2 minutes (exited %v, worker %d)", exited, worker)
		}
		if exited {
			time.Sleep(2 * time.Millisecond)
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	m1, _ := readCPU(s.pid)
	ctl.Wait()
	lg, _ := os.ReadFile(evlog)
	spawned := logStamp(b, lg, `(?m)^(\S+ \S+) .* gib pid \d+: spawned`, "2006-01-02 15:04:05.000")
	ended := logStamp(b, lg, `(?m)^(\S+ \S+) .* gib pid \d+: exited expectedly`, "2006-01-02 15:04:05.000")
	checkGiB(b, file)
	s.stop()
	os.Remove(file)
	settleDisk()
	if job == 0 {
		b.Fatalf("taskmaster: dd was never seen under the worker")
	}
	kids := m1.kids - m0.kids
	return outputRun{
		wall:     ended.Sub(spawned).Seconds(),
		cpu:      kids - jobLast.self,
		sampled:  last.self,
		master:   m1.self - m0.self,
		children: kids,
		job:      jobLast.self,
	}
}

// isDD says whether pid has exec'd dd.
func isDD(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	arg0, _, _ := strings.Cut(string(b), "\x00")
	return filepath.Base(arg0) == "dd"
}

func sdOutputRun(b *testing.B) outputRun {
	b.Helper()
	s := benchSupervisord(b, "[program:gib]\ncommand="+ddGiB+"\nautostart=false\nautorestart=false\nstartsecs=0\n"+
		"stdout_logfile=%(here)s/out.log\nstdout_logfile_maxbytes=0\nstdout_logfile_backups=0\nstderr_logfile=NONE\n", 1)
	file := filepath.Join(s.dir, "out.log")
	defer os.Remove(file)
	waitStopped(b, s, "gib")
	time.Sleep(200 * time.Millisecond)
	c0, ok := readCPU(s.pid)
	if !ok {
		b.Fatalf("supervisord: no /proc stat")
	}
	// XML-RPC straight to the socket: supervisorctl's Python start-up
	// would run beside the job on this machine's few CPUs.
	if err := sdRPC(s, "supervisor.startProcess", "<value><string>gib</string></value>", "<value><boolean>0</boolean></value>"); err != nil {
		b.Fatal(err)
	}
	sdlog := filepath.Join(s.dir, "supervisord.log")
	var full time.Time
	exited := false
	deadline := time.Now().Add(2 * time.Minute)
	for full.IsZero() || !exited {
		if full.IsZero() {
			if st, err := os.Stat(file); err == nil && st.Size() >= gibBytes {
				full = time.Now()
			}
		}
		if !exited {
			lg, _ := os.ReadFile(sdlog)
			exited = bytes.Contains(lg, []byte("exited: gib "))
		}
		if time.Now().After(deadline) {
			b.Fatalf("supervisord: not done after 2 minutes (exited %v)", exited)
		}
		time.Sleep(2 * time.Millisecond)
	}
	c1, _ := readCPU(s.pid)
	lg, _ := os.ReadFile(sdlog)
	spawned := logStamp(b, lg, `(?m)^(\S+ \S+) INFO spawned: 'gib'`, "2006-01-02 15:04:05,000")
	ended := logStamp(b, lg, `(?m)^(\S+ \S+) INFO exited: gib `, "2006-01-02 15:04:05,000")
	if full.After(ended) {
		ended = full
	}
	checkGiB(b, file)
	s.stop()
	os.Remove(file)
	settleDisk()
	return outputRun{wall: ended.Sub(spawned).Seconds(), cpu: c1.self - c0.self, job: c1.kids - c0.kids}
}

// tmStatusFlood times `ctl status` while idle, then while a job floods
// its discarded stdout; and the CPU of the master and the worker over the
// flood window, in percent of one CPU.
func tmStatusFlood(b *testing.B) (idle, flood []float64, masterPct, workerPct float64) {
	b.Helper()
	s := benchMaster(b, "taskmaster:\n  logfile: taskmaster.log\n  rundir: run\nprograms:\n"+
		"  flood:\n    cmd: cat /dev/zero\n    autostart: false\n    autorestart: never\n    starttime: 0\n")
	defer s.stop()
	waitStopped(b, s, "flood")
	status := func() float64 {
		t0 := time.Now()
		if out, err := exec.Command(benchBin, "ctl", "-c", s.cfg, "status").CombinedOutput(); err != nil {
			b.Fatalf("ctl status: %v\n%s", err, out)
		}
		return ms(time.Since(t0))
	}
	for i := 0; i < 20; i++ {
		idle = append(idle, status())
	}
	if out, err := exec.Command(benchBin, "ctl", "-c", s.cfg, "start", "flood").CombinedOutput(); err != nil {
		b.Fatalf("ctl start: %v\n%s", err, out)
	}
	workers := children(s.pid)
	if len(workers) != 1 {
		b.Fatalf("%d workers, want 1", len(workers))
	}
	time.Sleep(500 * time.Millisecond) // the flood is on
	m0, _ := readCPU(s.pid)
	w0, _ := readCPU(workers[0])
	t0 := time.Now()
	for i := 0; i < 20; i++ {
		flood = append(flood, status())
	}
	d := time.Since(t0).Seconds()
	m1, _ := readCPU(s.pid)
	w1, ok := readCPU(workers[0])
	if !ok {
		b.Fatalf("the flood's worker is gone")
	}
	if st := s.ctlStatus()["flood"]; st.State != "RUNNING" {
		b.Fatalf("flood: %+v", st)
	}
	return idle, flood, 100 * (m1.self - m0.self) / d, 100 * (w1.self - w0.self) / d
}

func sdStatusFlood(b *testing.B) (idle, flood []float64, pct float64) {
	b.Helper()
	s := benchSupervisord(b, "[program:flood]\ncommand=cat /dev/zero\nautostart=false\nautorestart=false\nstartsecs=0\n"+
		"stdout_logfile=NONE\nstderr_logfile=NONE\n", 1)
	defer s.stop()
	waitStopped(b, s, "flood")
	status := func() float64 {
		t0 := time.Now()
		// supervisorctl status exits 3 when a process is not running.
		exec.Command("supervisorctl", "-c", s.cfg, "status").Run()
		return ms(time.Since(t0))
	}
	for i := 0; i < 20; i++ {
		idle = append(idle, status())
	}
	if err := sdRPC(s, "supervisor.startProcess", "<value><string>flood</string></value>", "<value><boolean>1</boolean></value>"); err != nil {
		b.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	c0, _ := readCPU(s.pid)
	t0 := time.Now()
	for i := 0; i < 20; i++ {
		flood = append(flood, status())
	}
	d := time.Since(t0).Seconds()
	c1, _ := readCPU(s.pid)
	if st := s.ctlStatus()["flood"]; st.State != "RUNNING" {
		b.Fatalf("supervisord flood: %+v", st)
	}
	return idle, flood, 100 * (c1.self - c0.self) / d
}

// waitStopped polls the status command until name is STOPPED.
func waitStopped(b *testing.B, s *superProc, name string) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.ctlStatus()[name].State != "STOPPED" {
		if time.Now().After(deadline) {
			b.Fatalf("%s: %s not STOPPED after 30s\n%s", s.kind, name, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sdRPC calls supervisord's XML-RPC interface over its unix socket.
func sdRPC(s *superProc, method string, params ...string) error {
	_, err := rpcCall(context.Background(), rpcClient(s.rpcSocket()), method, params...)
	if err != nil {
		return fmt.Errorf("supervisord %w", err)
	}
	return nil
}

// cpuTimes is what /proc/PID/stat says of a process, in seconds: its own
// utime+stime (fields 14, 15) and that of its reaped children (cutime +
// cstime, fields 16, 17).
type cpuTimes struct{ self, kids float64 }

var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if n, err2 := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && err2 == nil && n > 0 {
		return float64(n)
	}
	return 100
}()

func readCPU(pid int) (cpuTimes, bool) {
	f := statFields(pid)
	if len(f) < 15 {
		return cpuTimes{}, false
	}
	n := func(field int) float64 {
		x, _ := strconv.ParseFloat(f[field-3], 64)
		return x / clockTicks
	}
	return cpuTimes{self: n(14) + n(15), kids: n(16) + n(17)}, true
}

// logStamp parses the timestamp that re's first group captures in lg.
func logStamp(b *testing.B, lg []byte, re, layout string) time.Time {
	b.Helper()
	m := regexp.MustCompile(re).FindSubmatch(lg)
	if m == nil {
		b.Fatalf("no line matching %s in the log:\n%s", re, lg)
	}
	t, err := time.ParseInLocation(layout, string(m[1]), time.Local)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

func checkGiB(b *testing.B, file string) {
	b.Helper()
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	if st.Size() != gibBytes {
		b.Fatalf("%s: %d bytes, want %d", file, st.Size(), gibBytes)
	}
}

func freeBytes(dir string) uint64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return st.Bavail * uint64(st.Bsize)
}

// settleDisk gives the kernel a moment after a 1 GiB file was deleted, so
// one run's clean-up does not land in the next run's window.
func settleDisk() { time.Sleep(300 * time.Millisecond) }
