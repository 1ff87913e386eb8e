package master

import (
	"fmt"
	"time"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// record writes p's state file itself when p has no worker to do it (a
// spawn error, a worker that failed its set-up or was lost), so the state
// files tell every state the master reaches. Its generation is above the
// last worker's: a worker still winding down cannot overwrite it. Loop
// only.
func (s *Supervisor) record(p *Process) {
	if s.opts.States == nil {
		return
	}
	uid, gid := wantIDs(p.Program)
	st := &statefile.State{
		Name: p.Name, State: p.state.String(), UID: uid, GID: gid,
		WorkingDir: p.Program.WorkingDir, ExitStatus: p.exit.Code,
		Restarts: p.starts, Error: p.spawn, Generation: s.nextGeneration(),
	}
	if p.Program.Umask >= 0 {
		st.Umask = fmt.Sprintf("%04o", p.Program.Umask)
	}
	if !p.start.IsZero() {
		st.StartedAt = p.start.Format(time.RFC3339)
	}
	if err := statefile.Write(s.opts.States, st); err != nil {
		s.log.Write(p.Name, Event{Msg: fmt.Sprintf("state file: %v", err), Warn: true})
	}
}

// unrecord removes the master's record of a slot renamed or gone.
func (s *Supervisor) unrecord(name string) {
	if s.opts.States != nil {
		statefile.Remove(s.opts.States, name, s.nextGeneration())
	}
}
