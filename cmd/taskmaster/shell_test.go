package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyProc is a taskmaster process on a real pty.
type ptyProc struct {
	t      *testing.T
	ptmx   *os.File
	tty    *os.File
	cmd    *exec.Cmd
	out    *syncBuffer
	mark   int // output before mark has been consumed by expect
	exited chan struct{}
}

// startOnPTY runs the binary with args on a new pty of 30x100.
func startOnPTY(t *testing.T, dir string, env []string, args ...string) *ptyProc {
	t.Helper()
	cmd := execBinary(args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, env...)
	return runOnPTY(t, cmd)
}

// runOnPTY runs cmd on a new pty of 30x100, as the leader of a session
// whose controlling terminal it is.
func runOnPTY(t *testing.T, cmd *exec.Cmd) *ptyProc {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 100})
	p := &ptyProc{t: t, ptmx: ptmx, tty: tty, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = tty, tty, tty
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			p.out.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		terminate(p.cmd.Process, p.exited, 15*time.Second, func() { p.cmd.Process.Kill() })
		ptmx.Close()
		tty.Close()
		if t.Failed() {
			t.Logf("pty output: %q", p.out.String())
		}
	})
	return p
}

func (p *ptyProc) send(s string) {
	p.t.Helper()
	if _, err := p.ptmx.WriteString(s); err != nil {
		p.t.Fatal(err)
	}
}

// expect waits for s in the output after the mark, and moves the mark past
// it. Each poll searches only what arrived since the last one.
func (p *ptyProc) expect(s string) {
	p.t.Helper()
	from := p.mark
	waitFor(p.t, 10*time.Second, fmt.Sprintf("%q on the terminal", s), func() bool {
		i, end := p.out.find(from, s)
		if i >= 0 {
			p.mark = i + len(s)
			return true
		}
		from = max(p.mark, end-len(s)+1)
		return false
	})
}

func (p *ptyProc) expectRE(re string) {
	p.t.Helper()
	r := regexp.MustCompile(re)
	waitFor(p.t, 10*time.Second, fmt.Sprintf("/%s/ on the terminal", re), func() bool {
		out := p.out.String()
		if loc := r.FindStringIndex(out[p.mark:]); loc != nil {
			p.mark += loc[1]
			return true
		}
		return false
	})
}

func (p *ptyProc) waitExit() int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		p.t.Fatal("still running")
	}
	return -1
}

func termios(t *testing.T, f *os.File) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

const shellConfig = `
taskmaster:
  history: hist
programs:
  web:
    cmd: sleep 1000
    starttime: 0
  worker:
    cmd: sleep 1000
    starttime: 0
`

func TestInteractiveShell(t *testing.T) {
	dir, cfg := writeConfig(t, shellConfig)
	marker := "TM_TEST_MARKER=shell"
	t.Cleanup(func() { killLeftovers(marker) })
	p := startOnPTY(t, dir, []string{marker}, "-c", cfg)
	before := termios(t, p.tty)
	p.expect("entered RUNNING")
	p.expect("entered RUNNING")
	p.expect("taskmaster> ")
	if strings.Contains(p.out.String(), "start requested") {
		t.Fatalf("noise in event lines: %q", p.out.String())
	}

	// Tab completes a unique command with a trailing space.
	p.send("stat\t")
	p.expect("status ")
	p.send("\r")
	p.expectRE(`web\s+RUNNING\s+pid \d+`)
	p.expect("taskmaster> ")

	// Up recalls it.
	p.send("\x1b[A\r")
	p.expectRE(`worker\s+RUNNING`)
	p.expect("taskmaster> ")

	// Ctrl-W, Ctrl-U and Ctrl-K edit what then runs: none of these stops.
	p.send("stop web\x17\x17pid web\x01\x0b")
	p.send("stop worker\x15version\r")
	p.expect("0.1.0")
	p.expect("taskmaster> ")

	// Ctrl-R finds the older command.
	p.send("\x12sta")
	p.expect("(reverse-i-search)'sta': status")
	p.send("\r")
	p.expectRE(`web\s+RUNNING`)
	p.expect("taskmaster> ")

	// An event while typing prints above and leaves the line intact.
	p.send("status we")
	p.expect("status we")
	out, _ := runBinary(t, "ctl", "-c", cfg, "pid", "web")
	var pid int
	fmt.Sscan(out, &pid)
	syscall.Kill(pid, syscall.SIGKILL)
	p.expectRE(`\[\d\d:\d\d:\d\d\] web exited unexpectedly \(signal KILL\); restarting`)
	p.expect("taskmaster> status we")
	// The restarted job's RUNNING line comes next, the typed line redrawn.
	p.expect("web entered RUNNING")
	p.expect("taskmaster> status we")
	p.send("b\r")
	p.expectRE(`web\s+RUNNING`)

	// notify off silences event lines.
	p.send("notify off\r")
	p.expect("notify: off")
	out, _ = runBinary(t, "ctl", "-c", cfg, "pid", "worker")
	fmt.Sscan(out, &pid)
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, 5*time.Second, "worker restarted", func() bool {
		out, _ := runBinary(t, "ctl", "-c", cfg, "pid", "worker")
		var now int
		fmt.Sscan(out, &now)
		return now != 0 && now != pid
	})
	p.send("version\r")
	p.expect("0.1.0")
	if strings.Contains(p.out.String(), "worker exited unexpectedly") {
		t.Fatalf("event line printed with notify off")
	}

	// Ctrl-D on an empty line shuts down; the terminal is as it was.
	p.send("\x04")
	p.expect("Shut down")
	if code := p.waitExit(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if after := termios(t, p.tty); *after != *before {
		t.Fatalf("terminal settings changed:\nbefore %+v\nafter  %+v", before, after)
	}

	// History survives a restart.
	hist, _ := os.ReadFile(filepath.Join(dir, "hist"))
	if !strings.Contains(string(hist), "status web\n") {
		t.Fatalf("history file: %q", hist)
	}
	p = startOnPTY(t, dir, []string{marker}, "-c", cfg)
	p.expect("taskmaster> ")
	p.send("\x1b[A")
	p.expect("version")
	p.send("\x15shutdown\r")
	p.expect("Shut down")
	p.waitExit()
}

// SIGTERM while the shell waits for input restores the terminal too.
func TestShellRestoresTerminalOnSIGTERM(t *testing.T) {
	dir, cfg := writeConfig(t, shellConfig)
	p := startOnPTY(t, dir, nil, "-c", cfg)
	before := termios(t, p.tty)
	p.expect("taskmaster> ")
	if after := termios(t, p.tty); after.Lflag&unix.ICANON != 0 {
		t.Fatalf("shell not in raw mode")
	}
	p.send("stat")
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if after := termios(t, p.tty); *after != *before {
		t.Fatalf("terminal settings changed")
	}
}

// The remote shell: the same editor; exit leaves the client only.
func TestCtlInteractive(t *testing.T) {
	m := startMaster(t, shellConfig)
	m.waitState("web", "RUNNING", nil)
	p := startOnPTY(t, m.dir, []string{"HOME=" + m.dir}, "ctl", "-c", m.cfg)
	p.expect("taskmaster> ")
	// Event lines reach the remote shell too.
	waitFor(t, 10*time.Second, "an event line in the remote shell", func() bool {
		in := m.status("worker")
		syscall.Kill(in.Pid, syscall.SIGKILL)
		m.waitState("worker", "RUNNING", func(n procInfo) bool { return n.Pid != in.Pid })
		i, _ := p.out.find(p.mark, "worker exited unexpectedly (signal KILL)")
		return i >= 0
	})
	p.expect("taskmaster> ")
	p.send("stop w\t")
	p.send("e\t\r")
	p.expect("web: stopped")
	p.expect("taskmaster> ")
	p.send("exit\r")
	if code := p.waitExit(); code != 0 {
		t.Fatalf("ctl exit code %d", code)
	}
	if st := m.status("worker"); st.State != "RUNNING" {
		t.Fatalf("master affected: %+v", st)
	}
}

// tail -f in the shell follows until Ctrl-C, then the prompt returns.
func TestShellTailFollowCtrlC(t *testing.T) {
	dir, cfg := writeConfig(t, `
taskmaster:
  history: hist
programs:
  talker:
    cmd: "/bin/sh -c 'trap \"echo ping\" USR1; echo hello; while :; do sleep 0.05; done'"
    starttime: 0
`)
	p := startOnPTY(t, dir, nil, "-c", cfg)
	p.expect("entered RUNNING")
	p.expect("taskmaster> ")
	p.send("tail -f talker\r")
	p.expect("hello")
	runBinary(t, "ctl", "-c", cfg, "signal", "USR1", "talker")
	p.expect("ping")
	p.send("\x03")
	p.expect("taskmaster> ")
	p.send("version\r")
	p.expect("0.1.0")
	p.send("shutdown\r")
	p.expect("Shut down")
	p.waitExit()
}
