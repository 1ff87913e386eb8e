package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/worker/statefile"
)

// binary is the taskmaster built once for every end-to-end test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tm-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Tests run it as throwaway users too.
	os.Chmod(dir, 0o755)
	binary = filepath.Join(dir, "taskmaster")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build taskmaster: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	plainOnce   sync.Once
	plainBinary string // built without -race, for soak tests
)

// binaryWithoutRace builds taskmaster without the race detector, whose
// start-up cost dominates tests that spawn workers by the thousand.
func binaryWithoutRace(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return binary
	}
	plainOnce.Do(func() {
		path := filepath.Join(filepath.Dir(binary), "taskmaster-norace")
		if out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); err != nil {
			t.Logf("build: %v\n%s", err, out)
			return
		}
		plainBinary = path
	})
	if plainBinary == "" {
		t.Fatal("no binary without -race")
	}
	return plainBinary
}

// syncBuffer collects a process's output for concurrent reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// find returns the index of sub at or after from, or -1, and the length
// searched up to; it copies nothing, so a flood stays cheap to watch.
func (s *syncBuffer) find(from int, sub string) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	from = min(max(from, 0), len(b))
	if i := bytes.Index(b[from:], []byte(sub)); i >= 0 {
		return from + i, len(b)
	}
	return -1, len(b)
}

// tmaster is one running master under test, in its own folder.
type tmaster struct {
	t      *testing.T
	dir    string
	cfg    string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	state  *os.ProcessState
	marker string // in every job's environment, to find leftovers
}

// writeConfig writes the YAML (with {{DIR}} replaced) into a new folder.
func writeConfig(t *testing.T, yaml string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	cfg = filepath.Join(dir, "taskmaster.yaml")
	yaml = strings.ReplaceAll(yaml, "{{DIR}}", dir)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// startMaster runs `taskmaster -c cfg --no-shell` and waits for its
// control socket. Cleanup stops it and kills anything it left.
func startMaster(t *testing.T, yaml string) *tmaster {
	t.Helper()
	dir, cfg := writeConfig(t, yaml)
	return launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
}

func launch(t *testing.T, dir, cfg string, stdin *os.File, args ...string) *tmaster {
	t.Helper()
	return launchBinary(t, binary, dir, cfg, stdin, args...)
}

func launchBinary(t *testing.T, bin, dir, cfg string, stdin *os.File, args ...string) *tmaster {
	t.Helper()
	m := &tmaster{t: t, dir: dir, cfg: cfg, out: &syncBuffer{}, exited: make(chan struct{}),
		marker: fmt.Sprintf("TM_TEST_MARKER=%s-%d", t.Name(), time.Now().UnixNano())}
	m.cmd = exec.Command(bin, args...)
	m.cmd.Dir = dir
	// The race runtime sleeps a second at exit unless told not to.
	m.cmd.Env = append(os.Environ(), m.marker, "GORACE=atexit_sleep_ms=0")
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if stdin != nil {
		m.cmd.Stdin = stdin
	}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		m.cmd.Wait()
		m.state = m.cmd.ProcessState
		close(m.exited)
	}()
	t.Cleanup(m.cleanup)
	sock := filepath.Join(dir, "run", "taskmaster.sock")
	waitFor(t, 10*time.Second, "control socket", func() bool {
		_, err := os.Stat(sock)
		return err == nil
	})
	return m
}

// terminate asks p to stop (SIGTERM), waits up to d for exited, then
// calls kill and waits for good.
func terminate(p *os.Process, exited <-chan struct{}, d time.Duration, kill func()) {
	select {
	case <-exited:
		return
	default:
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(d):
		kill()
		<-exited
	}
}

func (m *tmaster) cleanup() {
	terminate(m.cmd.Process, m.exited, 20*time.Second, func() { m.cmd.Process.Kill() })
	killLeftovers(m.marker)
	removeRunState(m.cfg)
	if m.t.Failed() {
		b, _ := os.ReadFile(filepath.Join(m.dir, "taskmaster.log"))
		m.t.Logf("master output:\n%s\nevent log:\n%s", m.out.String(), b)
	}
}

// removeRunState removes the state folder a master run as root keeps
// under /run (when /run is a tmpfs: statefile.Parent) for cfg's rundir:
// a test leaves nothing behind there.
func removeRunState(cfg string) {
	g, err := config.LoadGlobal(cfg)
	if err != nil || g.StateDir != "" {
		return
	}
	if p := statefile.Parent(g.RunDir, "", os.Geteuid()); strings.HasPrefix(p, statefile.RunBase+"/taskmaster/") {
		os.RemoveAll(p)
	}
}

// ctl runs `taskmaster ctl -c cfg ARGS...`.
func (m *tmaster) ctl(args ...string) (string, int) {
	m.t.Helper()
	return runBinary(m.t, append([]string{"ctl", "-c", m.cfg}, args...)...)
}

func execBinary(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	return cmd
}

func runBinary(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := execBinary(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("taskmaster %v did not finish", args)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

type procInfo struct {
	Name        string `json:"name"`
	Group       string `json:"group"`
	State       string `json:"state"`
	Pid         int    `json:"pid"`
	Uptime      int64  `json:"uptime"`
	ExitStatus  int    `json:"exitstatus"`
	Restarts    int    `json:"restarts"`
	Description string `json:"description"`
}

func (m *tmaster) status(name string) procInfo {
	m.t.Helper()
	out, code := m.ctl("status", name, "--json")
	var infos []procInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil || code != 0 || len(infos) != 1 {
		m.t.Fatalf("status %s: code %d, %v: %q", name, code, err, out)
	}
	return infos[0]
}

// waitState polls until name is in state (and cond holds, if given).
func (m *tmaster) waitState(name, state string, cond func(procInfo) bool) procInfo {
	m.t.Helper()
	var in procInfo
	waitFor(m.t, 20*time.Second, name+" "+state, func() bool {
		in = m.status(name)
		return in.State == state && (cond == nil || cond(in))
	})
	return in
}

func (m *tmaster) log() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "taskmaster.log"))
	return string(b)
}

// waitExit waits for the master to exit and returns its exit code.
func (m *tmaster) waitExit(d time.Duration) int {
	m.t.Helper()
	select {
	case <-m.exited:
		return m.state.ExitCode()
	case <-time.After(d):
		m.t.Fatalf("master still running after %s", d)
	}
	return -1
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// statFields returns the fields of /proc/PID/stat after the command name
// (which may hold spaces): f[0] is the state, f[1] the parent's pid,
// f[k-3] the man page's field k. nil when the process is gone.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return nil
	}
	if f := strings.Fields(string(b[i+1:])); len(f) >= 2 {
		return f
	}
	return nil
}

// allPids lists every process but this one.
func allPids() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

func alive(pid int) bool {
	// A zombie is dead for our purposes, but must not stay one for long.
	f := statFields(pid)
	return pid > 0 && f != nil && f[0] != "Z"
}

// parentOf returns pid's parent, 0 when pid is gone.
func parentOf(pid int) int {
	f := statFields(pid)
	if f == nil {
		return 0
	}
	pp, _ := strconv.Atoi(f[1])
	return pp
}

func ppid(t *testing.T, pid int) int {
	t.Helper()
	pp := parentOf(pid)
	if pp == 0 {
		t.Fatalf("no parent for %d: gone", pid)
	}
	return pp
}

// ours lists the live processes of the test: the binary under test
// (master and workers; tests run one at a time) and every job, found by
// the marker it inherits in its environment.
func ours(marker string) []int {
	var pids []int
	for _, pid := range allPids() {
		if !alive(pid) {
			continue
		}
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if bytes.Contains(env, []byte(marker)) || exe == binary || (plainBinary != "" && exe == plainBinary) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killLeftovers(marker string) {
	for _, pid := range ours(marker) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
