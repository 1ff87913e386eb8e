package master

import (
	"fmt"

	"github.com/taskmaster/taskmaster/config"
	"strings"
	"time"
)

// ProcessInfo is one process as `status` shows it.
type ProcessInfo struct {
	Name        string `json:"name"`
	Group       string `json:"group"`
	State       string `json:"state"`
	Pid         int    `json:"pid"`
	Uptime      int64  `json:"uptime"`
	ExitStatus  int    `json:"exitstatus"`
	Signal      string `json:"signal,omitempty"`
	Restarts    int    `json:"restarts"`
	Description string `json:"description"`
}

// info snapshots p. Loop only.
func (p *Process) info(now time.Time) ProcessInfo {
	in := ProcessInfo{
		Name: p.Name, Group: p.Program.Name, State: p.state.String(),
		Pid: p.pid, ExitStatus: p.exit.Code, Restarts: p.starts,
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

func uptime(d time.Duration) string {
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	hms := fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}

// statusLine formats in as supervisorctl does.
func statusLine(in ProcessInfo) string {
	return strings.TrimRight(fmt.Sprintf("%-32s %-10s%s", in.Name, in.State, in.Description), " ")
}
