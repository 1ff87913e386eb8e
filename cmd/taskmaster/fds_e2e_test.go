package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// manyPrograms is n programs running `sleep 1000`, RUNNING once exec'd.
func manyPrograms(n int) string {
	var b strings.Builder
	b.WriteString("taskmaster:\n  logfile: {{DIR}}/taskmaster.log\n  rundir: {{DIR}}/run\nprograms:\n")
	for i := range n {
		fmt.Fprintf(&b, "  p%03d:\n    cmd: sleep 1000\n    starttime: 0\n", i)
	}
	return b.String()
}

// underLimit runs args with RLIMIT_NOFILE soft and hard, as `ulimit -n`
// in a service's start script does.
func underLimit(soft, hard int, args ...string) []string {
	return append([]string{"-c", fmt.Sprintf(`ulimit -Sn %d && ulimit -Hn %d && exec "$0" "$@"`, soft, hard)}, args...)
}

// nofile reads pid's RLIMIT_NOFILE (soft, hard) from /proc.
func nofile(t *testing.T, pid int) (soft, hard int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(strings.TrimPrefix(line, "Max open files")); len(f) >= 2 && strings.HasPrefix(line, "Max open files") {
			soft, _ = strconv.Atoi(f[0])
			hard, _ = strconv.Atoi(f[1])
			return soft, hard
		}
	}
	t.Fatalf("no open files limit in /proc/%d/limits", pid)
	return 0, 0
}

// The master holds one descriptor per program: 300 programs all run under
// `ulimit -n 320` (at two descriptors a program, half of them failed to
// spawn: `socketpair: too many open files`), and its descriptors are the
// programs' plus a constant. The jobs get the soft limit the master was
// started with, not the one the master raised for itself.
func TestManyProgramsUnderLowFDLimit(t *testing.T) {
	const n = 300
	dir, cfg := writeConfig(t, manyPrograms(n))
	m := launchBinary(t, "/bin/sh", dir, cfg, nil, underLimit(300, 320, binaryWithoutRace(t), "-c", cfg, "--no-shell")...)
	var infos []procInfo
	waitFor(t, 3*time.Minute, fmt.Sprintf("%d programs RUNNING", n), func() bool {
		out, code := m.ctl("status", "--json")
		if err := json.Unmarshal([]byte(out), &infos); err != nil || code != 0 {
			t.Fatalf("status: code %d, %v: %.300q", code, err, out)
		}
		running := 0
		for _, in := range infos {
			switch in.State {
			case "RUNNING":
				running++
			case "BACKOFF", "FATAL":
				t.Fatalf("%s %s: %s\n%s", in.Name, in.State, in.Description, m.log())
			}
		}
		return running == n
	})
	master := m.cmd.Process.Pid
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", master))
	if err != nil {
		t.Fatal(err)
	}
	// 16: the master's fixed descriptors (master.fdFixed), 14 measured.
	if len(fds) > n+16 {
		t.Fatalf("master holds %d descriptors with %d workers, want at most %d", len(fds), n, n+16)
	}
	if soft, _ := nofile(t, master); soft != 319 {
		t.Errorf("master's soft RLIMIT_NOFILE %d, want it raised to the hard limit less one (Go's runtime)", soft)
	}
	if soft, hard := nofile(t, infos[0].Pid); soft != 300 || hard != 320 {
		t.Errorf("job's RLIMIT_NOFILE %d/%d, want the master's original 300/320", soft, hard)
	}
	// The start said the limit is short (by its own reckoning, which
	// keeps room for spawns in flight and clients).
	if !strings.Contains(m.log(), "WARN  taskmaster: the open files limit (RLIMIT_NOFILE 319) lets the master run") {
		t.Errorf("the event log does not warn of the limit:\n%s", m.log())
	}
}

// With the limit high enough, the start still says how many processes it
// leaves room for.
func TestStartSaysFDRoom(t *testing.T) {
	m := startMaster(t, manyPrograms(3))
	re := regexp.MustCompile(`INFO  taskmaster: open files limit \d+: room for \d+ processes, the config has 3\n`)
	waitFor(t, 5*time.Second, "the start's open files line", func() bool { return re.MatchString(m.log()) })
}

// `taskmaster check` says how many programs the descriptor limit lets the
// master run when the config has more.
func TestCheckWarnsOfFDLimit(t *testing.T) {
	_, cfg := writeConfig(t, manyPrograms(300))
	cmd := execBinary()
	cmd.Path = "/bin/sh"
	cmd.Args = append([]string{"sh"}, underLimit(100, 100, binary, "check", "-c", cfg)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "RLIMIT_NOFILE 100") || !strings.Contains(string(out), "the config has 300") {
		t.Fatalf("check did not warn of the limit:\n%s", out)
	}
}
