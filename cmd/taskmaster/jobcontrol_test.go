package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startBash runs `bash --norc -i` on a new pty, as a login terminal would:
// it has job control, so a command it runs gets its own process group,
// Ctrl-Z stops it and `fg` continues it.
func startBash(t *testing.T, dir string, env []string) *ptyProc {
	t.Helper()
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("SKIP: no /bin/bash for a job-control shell")
	}
	bash := exec.Command("/bin/bash", "--norc", "--noprofile", "-i")
	bash.Dir = dir
	bash.Env = append(append(os.Environ(), "GORACE=atexit_sleep_ms=0"), env...)
	p := runOnPTY(t, bash)
	p.send("PS1='bash$ '\n")
	p.expect("bash$ ")
	return p
}

// stopAndFg stops the foreground taskmaster (stop does it: Ctrl-Z typed,
// or SIGTSTP as a cooked terminal sends it), checks bash has the terminal
// back, and continues it with fg.
func stopAndFg(t *testing.T, p *ptyProc, stop func()) {
	t.Helper()
	stop()
	p.expect("Stopped")
	p.expect("bash$ ")
	fg(t, p)
}

// fg brings the taskmaster job back to the foreground and waits for its
// prompt and raw mode.
func fg(t *testing.T, p *ptyProc) {
	t.Helper()
	p.send("fg\n")
	p.expect("taskmaster> ")
	waitFor(t, 5*time.Second, "raw mode after fg", func() bool {
		return termios(t, p.tty).Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) == 0
	})
}

// editsAfterFg proves the editor has the keys again, raw: Up recalls
// the last line, last (a cooked terminal would echo ^[[A), Tab completes (a cooked
// one echoes the Tab and waits for Enter), Ctrl-C clears the line (a
// cooked one sends SIGINT), and nothing is echoed twice.
func editsAfterFg(t *testing.T, p *ptyProc, last string) {
	t.Helper()
	from := p.mark
	p.send("\x1b[A")
	p.expect("taskmaster> " + last)
	p.send("\x15stat\t")
	p.expect("status ")
	p.send("\x03")
	p.expect("^C")
	p.expect("taskmaster> ")
	seen := p.out.String()[from:p.mark]
	if strings.Contains(seen, "^[[A") || strings.Contains(seen, "statstat") || strings.Contains(seen, "stat\t") {
		t.Fatalf("the terminal echoed keys itself: %q", seen)
	}
}

// playJobControl stops the shell of process pid and continues it with
// fg: typed times with Ctrl-Z typed in the editor, then once with SIGTSTP
// as a cooked terminal (or kill -TSTP) sends it; each time it checks the
// editor works. Then it sends SIGINT and checks the shell still runs
// commands.
func playJobControl(t *testing.T, p *ptyProc, pid, typed int) {
	t.Helper()
	for i := range typed + 1 {
		stopAndFg(t, p, func() {
			if i < typed {
				p.send("\x1a")
			} else {
				syscall.Kill(pid, syscall.SIGTSTP)
			}
		})
		editsAfterFg(t, p, "version")
	}
	syscall.Kill(pid, syscall.SIGINT)
	p.send("status\r")
	p.expectRE(`web\s+RUNNING`)
	p.expect("taskmaster> ")
}

// Ctrl-Z then fg in the master's shell: raw mode comes back and the line
// is redrawn; Ctrl-C, typed or sent as SIGINT, never shuts down.
func TestShellSuspendResume(t *testing.T) {
	dir, cfg := writeConfig(t, shellConfig)
	marker := "TM_TEST_MARKER=jobctl-master"
	t.Cleanup(func() { killLeftovers(marker) })
	p := startBash(t, dir, []string{marker})
	p.send(fmt.Sprintf("%s -c %s\n", binary, cfg))
	p.expect("taskmaster> ")
	m := &tmaster{t: t, dir: dir, cfg: cfg}
	web := m.waitState("web", "RUNNING", nil)
	out, _ := m.ctl("pid")
	var pid int
	fmt.Sscan(out, &pid)
	p.send("version\r")
	p.expect("0.1.0")
	p.expect("taskmaster> ")

	playJobControl(t, p, pid, 2)
	// bg: continued without the terminal, the master leaves its settings
	// alone and draws nothing, and stops again as a read would (SIGTTIN);
	// fg brings it back.
	p.send("\x1a")
	p.expect("Stopped")
	p.expect("bash$ ")
	p.send("bg\n")
	p.expect("bash$ ")
	waitFor(t, 5*time.Second, "the master stopped again", func() bool {
		f := statFields(pid)
		return f != nil && f[0] == "T"
	})
	if strings.Contains(p.out.String()[p.mark:], "taskmaster> ") {
		t.Fatalf("the master drew its prompt from the background: %q", p.out.String()[p.mark:])
	}
	fg(t, p)
	editsAfterFg(t, p, "status")
	if now := m.status("web"); now.State != "RUNNING" || now.Pid != web.Pid {
		t.Fatalf("web after Ctrl-C: %+v, was %+v", now, web)
	}
	if !alive(pid) {
		t.Fatal("the master died of SIGINT")
	}
	p.send("shutdown\r")
	p.expect("Shut down")
	p.expect("bash$ ")
	p.send("exit\n")
}

// The same in ctl's shell: the client comes back raw, and Ctrl-C, typed
// or as SIGINT, neither kills it nor touches the master.
func TestCtlSuspendResume(t *testing.T) {
	m := startMaster(t, shellConfig)
	web := m.waitState("web", "RUNNING", nil)
	p := startBash(t, m.dir, []string{"HOME=" + m.dir})
	p.send(fmt.Sprintf("%s ctl -c %s\n", binary, m.cfg))
	p.expect("taskmaster> ")
	p.send("version\r")
	p.expect("0.1.0")
	p.expect("taskmaster> ")
	var pid int
	waitFor(t, 10*time.Second, "the ctl process", func() bool {
		for _, q := range allPids() {
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", q)); strings.HasPrefix(string(cmdline), binary+"\x00ctl\x00") {
				pid = q
				return true
			}
		}
		return false
	})
	playJobControl(t, p, pid, 1)
	p.send("exit\r")
	p.expect("bash$ ")
	if now := m.status("web"); now.State != "RUNNING" || now.Pid != web.Pid {
		t.Fatalf("web after ctl's Ctrl-C: %+v, was %+v", now, web)
	}
	p.send("exit\n")
}

// Without a terminal, SIGINT keeps meaning shutdown (DESIGN.md): headless
// and with commands piped in.
func TestSIGINTShutsDownWithoutTerminal(t *testing.T) {
	m := startMaster(t, shellConfig)
	m.waitState("web", "RUNNING", nil)
	m.cmd.Process.Signal(syscall.SIGINT)
	if code := m.waitExit(20 * time.Second); code != 0 {
		t.Fatalf("--no-shell: exit code %d", code)
	}

	piped, _ := launchPiped(t, shellConfig)
	piped.waitState("web", "RUNNING", nil)
	piped.cmd.Process.Signal(syscall.SIGINT)
	if code := piped.waitExit(20 * time.Second); code != 0 {
		t.Fatalf("piped: exit code %d", code)
	}
}
