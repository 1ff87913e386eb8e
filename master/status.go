package master

import (
	"fmt"
	"time"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master/xmlrpc"
)

// ProcessInfo is one process at one moment: what `status` shows and
// everything supervisor's process-info struct needs. Times are zero when
// they never happened.
type ProcessInfo struct {
	Name  string `json:"name"`
	Group string `json:"group"` // its program
	// State is Code's name (RUNNING, ...), the JSON of `status --json`.
	State string `json:"state"`
	Code  State  `json:"-"`
	Pid   int    `json:"pid"` // the job's; 0 when none runs
	// Uptime is the seconds since the job started, while RUNNING.
	Uptime int64 `json:"uptime"`
	// ExitStatus is the last exit's code, -1 after a death by signal
	// (then Signal names it, "SIGKILL").
	ExitStatus int    `json:"exitstatus"`
	Signal     string `json:"signal,omitempty"`
	Restarts   int    `json:"restarts"` // automatic restarts and retries since the last manual start
	// Description is supervisorctl's description column, made of the
	// fields here: "pid N, uptime H:MM:SS" when RUNNING, the stop time,
	// the spawn error.
	Description string    `json:"description"`
	Start       time.Time `json:"start,omitzero"` // when the job last started
	Stop        time.Time `json:"stop,omitzero"`  // when it last stopped or exited
	Now         time.Time `json:"now"`            // when this was taken
	SpawnErr    string    `json:"spawnerr"`
	Stdout      string    `json:"stdout_logfile"` // "" when discarded
	Stderr      string    `json:"stderr_logfile"`
	User        string    `json:"user"` // config `user`; "" runs as the master's
}

// info snapshots p. Loop only.
func (p *Process) info(now time.Time) ProcessInfo {
	in := ProcessInfo{
		Name: p.Name, Group: p.Program.Name, State: p.state.String(), Code: p.state,
		Pid: p.pid, ExitStatus: p.exit.Code, Restarts: p.starts,
		Now: now, SpawnErr: p.spawn, Stdout: p.Program.Stdout, Stderr: p.Program.Stderr, User: p.Program.User,
	}
	if p.ran {
		in.Start = p.start
	}
	if p.ran && !p.state.active() && p.state != Stopping {
		in.Stop = p.since
	}
	if p.exit.Code < 0 && p.exit.Signal != 0 {
		in.Signal = "SIG" + config.SignalName(p.exit.Signal)
	}
	if p.state == Running {
		in.Uptime = int64(now.Sub(p.start) / time.Second)
	}
	in.Description = p.describe(now)
	return in
}

// describe is supervisorctl's description column.
func (p *Process) describe(now time.Time) string {
	switch p.state {
	case Running:
		return fmt.Sprintf("pid %d, uptime %s", p.pid, uptime(now.Sub(p.start)))
	case Stopped:
		if !p.ran {
			return "Not started"
		}
		return p.since.Format("Jan 02 03:04 PM")
	case Exited:
		return p.since.Format("Jan 02 03:04 PM")
	case Backoff, Fatal:
		if p.spawn != "" {
			return p.spawn
		}
		return "Exited too quickly (process log may have details)"
	}
	return ""
}

// uptime is a duration as the description column shows it (xmlrpc.Uptime:
// H:MM:SS, "N days, " before it past a day).
func uptime(d time.Duration) string { return xmlrpc.Uptime(int(d / time.Second)) }
