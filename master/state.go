package master

import "fmt"

// State is a process state, as supervisor defines them.
type State int

const (
	Stopped State = iota
	Starting
	Running
	Backoff
	Stopping
	Exited
	Fatal
	Unknown
)

var stateNames = [...]string{"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// active reports whether the process counts as started: a start is then
// "already started" (supervisor's RUNNING_STATES).
func (s State) active() bool { return s == Starting || s == Running || s == Backoff }

// transitions lists every legal move. Anything else is a bug, refused by
// Process.setState with an error naming both states.
var transitions = map[State][]State{
	Stopped:  {Starting},
	Starting: {Running, Backoff, Stopping, Fatal},
	Running:  {Exited, Stopping},
	Backoff:  {Starting, Stopped, Fatal},
	Stopping: {Stopped},
	Exited:   {Starting},
	Fatal:    {Starting},
}

func canMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}
