package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks compare taskmaster with Debian's supervisord. Everything
// here takes a testing.TB, since the harness's helpers take a *testing.T.
// Measurements read /proc only: polling `ctl status` would itself wake the
// master and skew what is measured.

// superProc is one supervisor under benchmark: a taskmaster master or a
// supervisord, run in its own folder and process group.
type superProc struct {
	tb      testing.TB
	kind    string // "taskmaster" or "supervisord"
	dir     string
	cfg     string
	cmd     *exec.Cmd
	pid     int
	started time.Time // taken just before the exec
	out     *syncBuffer
	exited  chan struct{}
	marker  string // in the environment of everything it starts
	once    sync.Once
}

func newMarker(tb testing.TB, kind string) string {
	return fmt.Sprintf("TM_BENCH_MARKER=%s-%s-%d", strings.ReplaceAll(tb.Name(), "/", "_"), kind, time.Now().UnixNano())
}

var (
	benchBinOnce sync.Once
	benchBin     string
	benchBinErr  error
)

// benchBinary is taskmaster built as `make build` builds it: static
// (CGO_ENABLED=0; a cgo build is dynamically linked, and ld.so plus libc
// make every worker's exec slower and bigger) and never with -race. It
// lives next to the harness's binary, so TestMain removes it.
func benchBinary(tb testing.TB) string {
	tb.Helper()
	benchBinOnce.Do(func() {
		benchBin = filepath.Join(filepath.Dir(binary), "taskmaster-bench")
		cmd := exec.Command("go", "build", "-trimpath", "-o", benchBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			benchBinErr = fmt.Errorf("build taskmaster: %v\n%s", err, out)
		}
	})
	if benchBinErr != nil {
		tb.Fatal(benchBinErr)
	}
	return benchBin
}

// benchMaster writes yaml into a new folder and runs `taskmaster -c cfg
// --no-shell` there. It returns at once: the caller times the start-up.
func benchMaster(tb testing.TB, yaml string) *superProc {
	tb.Helper()
	return benchMasterWrapped(tb, yaml, nil)
}

// benchMasterWrapped runs the master through wrap (a command that execs
// its arguments, such as prlimit).
func benchMasterWrapped(tb testing.TB, yaml string, wrap []string) *superProc {
	tb.Helper()
	dir := tb.TempDir()
	cfg := filepath.Join(dir, "taskmaster.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		tb.Fatal(err)
	}
	args := append(slices.Clone(wrap), benchBinary(tb), "-c", cfg, "--no-shell")
	return superStart(tb, "taskmaster", dir, cfg, os.Environ(), args[0], args[1:]...)
}

// haveSupervisord says whether Debian's supervisord can be run.
func haveSupervisord() bool {
	_, err1 := exec.LookPath("supervisord")
	_, err2 := exec.LookPath("supervisorctl")
	return err1 == nil && err2 == nil
}

// benchSupervisord runs `supervisord -n -c conf` with its socket, pid file
// and logs in a new folder. programs is the [program:x] sections of n
// programs. minfds only as high as n needs: every child closes every fd
// below minfds, one by one, before its exec.
func benchSupervisord(tb testing.TB, programs string, n int) *superProc {
	tb.Helper()
	return supervisordIn(tb, programs, max(1024, 4*n+256), nil)
}

// supervisordIn runs supervisord with minfds through wrap (a command that
// execs its arguments, such as prlimit).
func supervisordIn(tb testing.TB, programs string, minfds int, wrap []string) *superProc {
	tb.Helper()
	dir := tb.TempDir()
	cfg := filepath.Join(dir, "supervisord.conf")
	conf := fmt.Sprintf(`[unix_http_server]
file=%[1]s/supervisor.sock
chmod=0700

[supervisord]
nodaemon=true
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
minfds=%[3]d
minprocs=200
loglevel=info

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/supervisor.sock

%[2]s`, dir, programs, minfds)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	args := append(slices.Clone(wrap), "supervisord", "-n", "-c", cfg)
	return superStart(tb, "supervisord", dir, cfg, os.Environ(), args[0], args[1:]...)
}

func superStart(tb testing.TB, kind, dir, cfg string, env []string, name string, args ...string) *superProc {
	tb.Helper()
	s := &superProc{tb: tb, kind: kind, dir: dir, cfg: cfg, out: &syncBuffer{},
		exited: make(chan struct{}), marker: newMarker(tb, kind)}
	s.cmd = exec.Command(name, args...)
	s.cmd.Dir = dir
	s.cmd.Env = append(env, s.marker)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	tb.Cleanup(s.stop)
	return s
}

// stop shuts the supervisor down gracefully, then kills whatever is left:
// its process group, and every process carrying its marker (jobs live in
// process groups of their own) or running the binary under test.
func (s *superProc) stop() { s.once.Do(s.shutdown) }

func (s *superProc) shutdown() {
	terminate(s.cmd.Process, s.exited, 30*time.Second, func() { syscall.Kill(-s.pid, syscall.SIGKILL) })
	syscall.Kill(-s.pid, syscall.SIGKILL)
	// Orphans may take a moment to die; make sure none survives.
	for i := 0; i < 50; i++ {
		left := s.leftovers()
		if len(left) == 0 {
			break
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.tb.Failed() {
		s.tb.Logf("%s output:\n%s", s.kind, s.out.String())
	}
}

// leftovers lists the live processes carrying the marker and, for
// taskmaster, running the binary under benchmark.
func (s *superProc) leftovers() []int {
	var pids []int
	for _, pid := range allPids() {
		if !alive(pid) {
			continue
		}
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if bytes.Contains(env, []byte(s.marker)) {
			pids = append(pids, pid)
			continue
		}
		if s.kind == "taskmaster" {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == benchBin {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// ctlStatus runs the supervisor's own status command and returns name →
// (state, pid). It is only used outside measurement windows.
func (s *superProc) ctlStatus() map[string]procInfo {
	s.tb.Helper()
	res := map[string]procInfo{}
	if s.kind == "taskmaster" {
		out, _ := exec.Command(benchBin, "ctl", "-c", s.cfg, "status", "--json").Output()
		var infos []procInfo
		if err := json.Unmarshal(out, &infos); err != nil {
			return res
		}
		for _, in := range infos {
			res[in.Name] = in
		}
		return res
	}
	out, _ := exec.Command("supervisorctl", "-c", s.cfg, "status").Output()
	// name   RUNNING   pid 123, uptime 0:00:01
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		in := procInfo{Name: f[0], State: f[1]}
		if len(f) >= 4 && f[2] == "pid" {
			in.Pid, _ = strconv.Atoi(strings.TrimSuffix(f[3], ","))
		}
		res[f[0]] = in
	}
	return res
}

// rpcSocket is the supervisor's XML-RPC socket.
func (s *superProc) rpcSocket() string {
	if s.kind == "taskmaster" {
		return filepath.Join(s.dir, "run", "supervisor.sock")
	}
	return filepath.Join(s.dir, "supervisor.sock")
}

// rpcStatus is getAllProcessInfo by name; nil when the supervisor does
// not answer (yet).
func (s *superProc) rpcStatus() map[string]procInfo {
	infos, err := rpcAllProcessInfo(context.Background(), rpcClient(s.rpcSocket()))
	if err != nil {
		return nil
	}
	res := map[string]procInfo{}
	for _, in := range infos {
		res[in.Name] = in
	}
	return res
}

// countState counts the processes in state; -1 when the supervisor does
// not answer.
func (s *superProc) countState(state string) int {
	st := s.rpcStatus()
	if st == nil {
		return -1
	}
	n := 0
	for _, in := range st {
		if in.State == state {
			n++
		}
	}
	return n
}

// waitRunning polls getAllProcessInfo until n processes are RUNNING (and
// ok accepts the result) and returns when that was first seen.
func (s *superProc) waitRunning(n int, d time.Duration, ok func(map[string]procInfo) bool) time.Time {
	s.tb.Helper()
	deadline := time.Now().Add(d)
	for {
		st := s.rpcStatus()
		running := 0
		for _, in := range st {
			if in.State == "RUNNING" {
				running++
			}
		}
		if st != nil && running >= n && (ok == nil || ok(st)) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("%s: %d of %d RUNNING after %s\n%s", s.kind, running, n, d, s.out.String())
		}
		select {
		case <-s.exited:
			s.tb.Fatalf("%s exited early:\n%s", s.kind, s.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// rpcClient talks HTTP over the unix socket sock, one connection per
// request, as supervisorctl does.
func rpcClient(sock string) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

// rpcCall posts one XML-RPC call and returns the answer's body; a fault
// is an error.
func rpcCall(ctx context.Context, c *http.Client, method string, params ...string) ([]byte, error) {
	var body strings.Builder
	fmt.Fprintf(&body, `<?xml version="1.0"?><methodCall><methodName>%s</methodName><params>`, method)
	for _, p := range params {
		fmt.Fprintf(&body, "<param>%s</param>", p)
	}
	body.WriteString("</params></methodCall>")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/RPC2", strings.NewReader(body.String()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte("<fault>")) {
		return nil, fmt.Errorf("%s: %s\n%s", method, resp.Status, out)
	}
	return out, nil
}

// xrProcess is one process of getAllProcessInfo's answer.
type xrProcess struct {
	Members []struct {
		Name  string `xml:"name"`
		Value struct {
			Int    string `xml:"int"`
			I4     string `xml:"i4"`
			String string `xml:"string"`
			Text   string `xml:",chardata"`
		} `xml:"value"`
	} `xml:"member"`
}

// rpcAllProcessInfo calls supervisor.getAllProcessInfo: name, state and
// pid of every process.
func rpcAllProcessInfo(ctx context.Context, c *http.Client) ([]procInfo, error) {
	out, err := rpcCall(ctx, c, "supervisor.getAllProcessInfo")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Procs []xrProcess `xml:"params>param>value>array>data>value>struct"`
	}
	if err := xml.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("getAllProcessInfo: %w", err)
	}
	infos := make([]procInfo, 0, len(resp.Procs))
	for _, p := range resp.Procs {
		var in procInfo
		for _, m := range p.Members {
			v := m.Value.String + m.Value.Int + m.Value.I4
			if v == "" {
				v = strings.TrimSpace(m.Value.Text)
			}
			switch m.Name {
			case "name":
				in.Name = v
			case "statename":
				in.State = v
			case "pid":
				in.Pid, _ = strconv.Atoi(v)
			}
		}
		infos = append(infos, in)
	}
	return infos, nil
}

// --- /proc ---

// descendants lists pid and every process under it.
func descendants(pid int) []int {
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children(tree[i])...)
	}
	return tree
}

// children lists the children of every thread of pid.
func children(pid int) []int {
	var kids []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// ctxSwitches returns, per thread of pid, its voluntary context switches:
// each is a sleep, so the next run is a wake-up. (Involuntary ones are
// preemptions, which count how busy the machine is, not wake-ups.)
// /proc/PID/status counts the main thread only, so the threads are read
// one by one; the main thread is one of them.
func ctxSwitches(pid int) map[int]int64 {
	res := map[int]int64{}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
		if err != nil {
			continue
		}
		var n int64
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "voluntary_ctxt_switches:"); ok {
				n, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
		res[tid] = n
	}
	return res
}

// switchesSince is the number of context switches between two snapshots;
// a thread born in between counts from zero.
func switchesSince(before, after map[int]int64) int64 {
	var n int64
	for tid, a := range after {
		n += a - before[tid]
	}
	return n
}

// rollup reads a field of /proc/PID/smaps_rollup, in KiB.
func rollup(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseFloat(f[0], 64)
				return n
			}
		}
	}
	return 0
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	i := int(p*float64(len(s)-1) + 0.5)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// --- the side-by-side table ---

type benchRow struct {
	metric string
	tm, sd string
}

// table collects one benchmark's rows, reports them as metrics and prints
// them as `metric | taskmaster | supervisord`.
type table struct {
	b    *testing.B
	rows []benchRow
}

func newTable(b *testing.B) *table { return &table{b: b} }

// add records a figure of both supervisors; sdOK false prints n/a. unit
// names the metric for b.ReportMetric (no spaces).
func (t *table) add(metric, unit string, tm, sd float64, sdOK bool) {
	t.b.ReportMetric(tm, "tm_"+unit)
	r := benchRow{metric: metric, tm: fmtFig(tm), sd: "n/a"}
	if sdOK {
		t.b.ReportMetric(sd, "sd_"+unit)
		r.sd = fmtFig(sd)
	}
	t.rows = append(t.rows, r)
}

func fmtFig(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x < 10:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 1000:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// addTM records a figure supervisord has no counterpart of.
func (t *table) addTM(metric, unit string, tm float64) {
	t.b.ReportMetric(tm, "tm_"+unit)
	t.rows = append(t.rows, benchRow{metric: metric, tm: fmtFig(tm), sd: "-"})
}

// print writes the rows to stdout, so `make bench` shows them without -v.
func (t *table) print() {
	load, _ := os.ReadFile("/proc/loadavg")
	// Other work on the machine skews every figure: show how busy it was.
	title := fmt.Sprintf("%s (load average now: %s)", t.b.Name(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Print(formatTable(title, t.rows))
}

func formatTable(title string, rows []benchRow) string {
	w := [3]int{len("metric"), len("taskmaster"), len("supervisord")}
	for _, r := range rows {
		w[0] = max(w[0], len(r.metric))
		w[1] = max(w[1], len(r.tm))
		w[2] = max(w[2], len(r.sd))
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "\n%s\n", title)
	fmt.Fprintf(&buf, "%-*s | %*s | %*s\n", w[0], "metric", w[1], "taskmaster", w[2], "supervisord")
	fmt.Fprintf(&buf, "%s-|-%s-|-%s\n", strings.Repeat("-", w[0]), strings.Repeat("-", w[1]), strings.Repeat("-", w[2]))
	for _, r := range rows {
		fmt.Fprintf(&buf, "%-*s | %*s | %*s\n", w[0], r.metric, w[1], r.tm, w[2], r.sd)
	}
	return buf.String()
}
