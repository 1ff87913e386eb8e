package xmlrpc

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeBackend plays the master: processes whose start and stop take a
// little while, log files in a temporary folder, and a record of what it
// was asked.
type fakeBackend struct {
	dir string

	mu      sync.Mutex // guards everything below
	procs   []Process
	signals []string
	stdin   map[string]string
	state   ServerState
	added   map[string]bool
	hang    bool // a started process stays STARTING
}

// newFake has: cat (RUNNING, a log), web:web_00 and web:web_01 (a group
// of two, stopped), bad (FATAL with a spawn error), crash (fails its
// start), and a main log.
func newFake(t testing.TB) *fakeBackend {
	dir := t.TempDir()
	start := time.Now().Add(-(26*time.Hour + 3*time.Minute + 4*time.Second))
	f := &fakeBackend{dir: dir, stdin: map[string]string{}, state: StateServing, added: map[string]bool{}}
	f.procs = []Process{
		{Name: "cat", Group: "cat", State: StateRunning, Start: start, PID: 4242,
			StdoutLog: filepath.Join(dir, "cat.out"), StderrLog: filepath.Join(dir, "cat.err")},
		{Name: "web_00", Group: "web", State: StateStopped, StdoutLog: filepath.Join(dir, "web_00.out")},
		{Name: "web_01", Group: "web", State: StateExited, Start: start, Stop: start.Add(time.Hour), ExitStatus: -1},
		{Name: "bad", Group: "bad", State: StateFatal, SpawnErr: "cannot find command 'nope'"},
		{Name: "crash", Group: "crash", State: StateStopped},
	}
	write(t, filepath.Join(dir, "cat.out"), "0123456789")
	write(t, filepath.Join(dir, "main.log"), "main log line\n")
	write(t, filepath.Join(dir, "web_00.out"), "red\x1b[0m\r\n\x00end \u00e9")
	return f
}

func write(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeBackend) PID() int { return os.Getpid() }

func (f *fakeBackend) State() ServerState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeBackend) Processes() []Process {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Process(nil), f.procs...)
}

func (f *fakeBackend) find(name string) (*Process, error) {
	for i := range f.procs {
		if f.procs[i].Namespec() == name {
			return &f.procs[i], nil
		}
	}
	return nil, fmt.Errorf("start %s: %w", name, ErrBadName)
}

// later changes a process's state after d, as the master would.
func (f *fakeBackend) later(name string, d time.Duration, change func(p *Process)) {
	time.AfterFunc(d, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if p, err := f.find(name); err == nil {
			change(p)
		}
	})
}

func (f *fakeBackend) Start(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(name)
	if err != nil {
		return err
	}
	if p.State.running() {
		return ErrAlreadyStarted
	}
	p.State, p.SpawnErr = StateStarting, ""
	if f.hang {
		return nil
	}
	if name == "crash" {
		f.later(name, 100*time.Millisecond, func(p *Process) { p.State, p.ExitStatus = StateBackoff, 1 })
		return nil
	}
	f.later(name, 200*time.Millisecond, func(p *Process) {
		p.State, p.PID, p.Start = StateRunning, 5000+len(p.Name), time.Now()
	})
	return nil
}

func (f *fakeBackend) Stop(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(name)
	if err != nil {
		return err
	}
	p.State = StateStopping
	f.later(name, 200*time.Millisecond, func(p *Process) { p.State, p.PID, p.Stop = StateStopped, 0, time.Now() })
	return nil
}

func (f *fakeBackend) Signal(name string, sig syscall.Signal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, fmt.Sprintf("%s %d", name, sig))
	return nil
}

func (f *fakeBackend) WriteStdin(name string, data []byte) error {
	if strings.HasPrefix(name, "web:") {
		return fmt.Errorf("write %s: no stdin (tty: false, no stdin: pipe): %w", name, ErrNoFile)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stdin[name] += string(data)
	return nil
}

func (f *fakeBackend) OpenLog(name string, log Log) (*os.File, error) {
	path := filepath.Join(f.dir, "main.log")
	if log != LogMain {
		f.mu.Lock()
		p, err := f.find(name)
		if err == nil {
			path = p.StdoutLog
			if log == LogStderr {
				path = p.StderrLog
			}
		}
		f.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	if path == "" {
		return nil, ErrNoFile
	}
	file, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("open %s: %w", path, ErrNoFile)
	}
	return file, err
}

func (f *fakeBackend) ClearLogs(name string) error {
	if name == "bad" {
		return fmt.Errorf("truncate: %w", ErrFailed)
	}
	return nil
}

func (f *fakeBackend) ConfigInfo() []ConfigInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ConfigInfo
	for _, p := range f.procs {
		out = append(out, ConfigInfo{Name: p.Name, Group: p.Group, InUse: true, AutoStart: true,
			AutoRestart: "unexpected", Command: "/bin/" + p.Name, UID: -1, ExitCodes: []int{0},
			GroupPrio: 999, ProcessPrio: 999, StopSignal: syscall.SIGTERM, StartSecs: 1})
	}
	out = append(out, ConfigInfo{Name: "spare", Group: "spare", Command: "/bin/true", UID: -1, GroupPrio: 999, ProcessPrio: 999})
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

func (f *fakeBackend) Reread() (Changes, error) {
	return Changes{Added: []string{"spare"}, Changed: []string{"web"}}, nil
}

func (f *fakeBackend) AddGroup(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name != "spare" {
		if _, err := f.find(name); err == nil {
			return ErrAlreadyAdded
		}
		return ErrBadName
	}
	if f.added[name] {
		return ErrAlreadyAdded
	}
	f.added[name] = true
	return nil
}

func (f *fakeBackend) RemoveGroup(name string) error {
	if name == "cat" {
		return ErrStillRunning
	}
	return nil
}

func (f *fakeBackend) Restart() error { return nil }

func (f *fakeBackend) Shutdown() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = StateShutdown
	return nil
}
