package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/worker/statefile"
)

// runState prints the workers' state files as a status table, with no
// master needed: after a crash it shows what was running.
func runState(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("state", stderr)
	cfgPath := fs.String("c", "", "config file")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		return exitUsage
	}
	rundir, statedir := fs.Arg(0), ""
	if rundir == "" {
		g, err := stateGlobal(findConfig(*cfgPath))
		if err != nil {
			printConfigError(stderr, err)
			return exitUsage
		}
		rundir, statedir = g.RunDir, g.StateDir
	} else if abs, err := filepath.Abs(rundir); err == nil {
		rundir = abs
	}
	dir := stateFolder(rundir, statedir)
	states, bad, err := statefile.ReadDir(dir)
	if err != nil {
		fmt.Fprintf(stderr, "taskmaster state: %v\n", err)
		return exitFailure
	}
	for _, e := range bad {
		fmt.Fprintf(stderr, "taskmaster state: %s\n", printable(e.Error()))
	}
	if len(states) == 0 {
		fmt.Fprintf(stdout, "no state files in %s\n", dir)
		return exitOK
	}
	fmt.Fprintf(stdout, "state files in %s\n", dir)
	for _, st := range states {
		fmt.Fprintln(stdout, stateLine(st, st.WorkerAlive()))
	}
	return exitOK
}

// stateGlobal reads the config's taskmaster section: quickly when the
// file is plain (the programs are not needed), else in full.
func stateGlobal(path string) (*config.Global, error) {
	if g, ok := config.QuickGlobal(path); ok {
		return g, nil
	}
	return config.LoadGlobal(path)
}

// stateFolder is where the master of rundir keeps its state files (see
// statefile.Parent); the rundir's own workers folder when that one does
// not exist, as a master of an earlier version left them there.
func stateFolder(rundir, statedir string) string {
	dir := statefile.Dir(statefile.Parent(rundir, statedir, os.Geteuid()))
	if _, err := os.Lstat(dir); err != nil && statedir == "" {
		return statefile.Dir(rundir)
	}
	return dir
}

// stateLine is one state file as a status line. A worker that is gone
// makes its file stale: a record of the past, not the present. A record
// with no worker is the master's, for a slot that had none. The text came
// from workers that run next to jobs: control characters are escaped so
// nothing in it reaches the terminal as a sequence.
func stateLine(st statefile.State, alive bool) string {
	var desc []string
	if st.Pid > 0 {
		desc = append(desc, fmt.Sprintf("pid %d", st.Pid))
	}
	if st.WorkerPid > 0 {
		desc = append(desc, fmt.Sprintf("worker %d", st.WorkerPid))
	}
	if st.Error != "" {
		desc = append(desc, st.Error)
	}
	if t, err := time.Parse(time.RFC3339, st.UpdatedAt); err == nil {
		desc = append(desc, "updated "+t.Local().Format("Jan 02 15:04:05"))
	}
	if st.WorkerPid > 0 && !alive {
		desc = append(desc, "STALE: worker gone")
	}
	line := fmt.Sprintf("%-32s %-10s%s", printable(st.Name), printable(st.State), printable(strings.Join(desc, ", ")))
	return strings.TrimRight(line, " ")
}

// printable escapes control characters (as strconv.Quote would) and
// keeps the rest.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
