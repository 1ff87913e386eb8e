package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// An idle master and its idle workers are woken by nothing of ours, and
// the workers run without GOGC pacing, so the runtime forces no
// collection on them every 2 minutes: what is left is sysmon, once a
// minute (issue 12; the figure is in docs/performance.md).
func TestIdleWakesNothing(t *testing.T) {
	dir, cfg := writeConfig(t, "programs:\n"+
		"  a: {cmd: sleep 1000, starttime: 1, stdout: a.log}\n"+
		"  b: {cmd: sleep 1000, starttime: 1, stdout: b.log, stderr: b.log}\n"+
		"  c: {cmd: sleep 1000, starttime: 0}\n")
	m := launchBinary(t, binaryWithoutRace(t), dir, cfg, nil, "-c", cfg, "--no-shell")
	pids := []int{m.cmd.Process.Pid}
	for _, name := range []string{"a", "b", "c"} {
		w := ppid(t, m.waitState(name, "RUNNING", nil).Pid)
		if env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", w)); !bytes.Contains(env, []byte("GOGC=off\x00")) {
			t.Errorf("worker of %s runs with GOGC pacing (environment %q): the runtime forces a collection every 2 minutes", name, env)
		}
		pids = append(pids, w)
	}
	// Let the runtimes settle: sysmon sleeps 60 s once every P is idle.
	time.Sleep(time.Second)
	before := switches(t, pids)
	time.Sleep(3 * time.Second)
	after := switches(t, pids)
	for i, pid := range pids {
		if after[i] != before[i] {
			t.Errorf("process %d (%s) woke %d times in 3 s of idle", pid, cmdline(pid), after[i]-before[i])
		}
	}
}

// switches sums the context switches of every thread of each process.
func switches(t *testing.T, pids []int) []int64 {
	t.Helper()
	out := make([]int64, len(pids))
	for i, pid := range pids {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
		if err != nil || len(tasks) == 0 {
			t.Fatalf("process %d gone", pid)
		}
		for _, task := range tasks {
			b, _ := os.ReadFile(task)
			for _, line := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "voluntary_ctxt_switches") {
					n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					out[i] += n
				}
			}
		}
	}
	return out
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(bytes.TrimRight(b, "\x00")), "\x00", " ")
}
