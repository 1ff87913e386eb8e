package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/worker"
)

// runState prints the workers' state files as a status table, with no
// master needed: after a crash it shows what was running.
func runState(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("state", stderr)
	cfgPath := fs.String("c", "", "config file")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		return exitUsage
	}
	rundir := fs.Arg(0)
	if rundir == "" {
		g, err := config.LoadGlobal(findConfig(*cfgPath))
		if err != nil {
			printConfigError(stderr, err)
			return exitUsage
		}
		rundir = g.RunDir
	}
	states, err := worker.ReadStates(filepath.Join(rundir, "workers"))
	if err != nil {
		fmt.Fprintf(stderr, "taskmaster state: %v\n", err)
		return exitFailure
	}
	if len(states) == 0 {
		fmt.Fprintf(stdout, "no state files in %s\n", filepath.Join(rundir, "workers"))
		return exitOK
	}
	for _, st := range states {
		fmt.Fprintln(stdout, stateLine(st, workerAlive(st.WorkerPid)))
	}
	return exitOK
}

// stateLine is one state file as a status line. A worker that is gone
// makes its file stale: a record of the past, not the present.
func stateLine(st worker.State, alive bool) string {
	var desc []string
	if st.Pid > 0 {
		desc = append(desc, fmt.Sprintf("pid %d", st.Pid))
	}
	desc = append(desc, fmt.Sprintf("worker %d", st.WorkerPid))
	if st.Error != "" {
		desc = append(desc, st.Error)
	}
	if t, err := time.Parse(time.RFC3339, st.UpdatedAt); err == nil {
		desc = append(desc, "updated "+t.Local().Format("Jan 02 15:04:05"))
	}
	if !alive {
		desc = append(desc, "STALE: worker gone")
	}
	return strings.TrimRight(fmt.Sprintf("%-32s %-10s%s", st.Name, st.State, strings.Join(desc, ", ")), " ")
}

// workerAlive reports whether pid is still a tm-worker.
func workerAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.HasPrefix(string(b), "tm-worker\x00")
}
