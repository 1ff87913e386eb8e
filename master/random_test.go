package master

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/config"
)

// workerModel is what a plausible worker of the current slot could still
// say: answers owed to Starts, and the job it runs.
type workerModel struct {
	answered int // Starts answered (Started or SpawnError)
	pid      int // the job's, 0 when none
	stopping bool
}

// Issue 10, point 20: an impossible transition is a failing test. Random
// sequences of commands (start, stop, signal), worker reports (Started,
// SpawnError, Exited, Failed, lost) and elapsed time drive a Process over
// fake workers; the fake env fails the test on any refused transition,
// and the slot's invariants are checked after every step.
func TestRandomEventsNoInvalidTransition(t *testing.T) {
	for seed := uint64(1); seed <= 400; seed++ {
		r := rand.New(rand.NewPCG(seed, 10))
		p, e := newTestProcess(t, func(p *config.Program) {
			p.StartRetries = r.IntN(3)
			p.StartTime = time.Duration(r.IntN(3)) * time.Second
			p.AutoRestart = []config.AutoRestart{config.RestartAlways, config.RestartNever, config.RestartUnexpected}[r.IntN(3)]
		})
		models := map[*fakeWorker]*workerModel{}
		nextPid := 100
		var trace []string
		for step := 0; step < 150; step++ {
			what := randomStep(r, p, e, models, &nextPid)
			trace = append(trace, fmt.Sprintf("%s -> %s", what, p.State()))
			if err := slotInvariant(p); err != nil || t.Failed() {
				t.Fatalf("seed %d: %v after:\n%v", seed, err, trace)
			}
		}
	}
}

func randomStep(r *rand.Rand, p *Process, e *fakeEnv, models map[*fakeWorker]*workerModel, nextPid *int) string {
	w, _ := p.w.(*fakeWorker)
	m := models[w]
	if w != nil && m == nil {
		m = &workerModel{}
		models[w] = m
	}
	starts := 0
	if w != nil {
		starts = slices.Index(w.orders, "quit") // orders after a quit never come
		if starts < 0 {
			starts = len(w.orders)
		}
		starts = countOrders(w.orders[:starts], "start")
	}
	switch r.IntN(9) {
	case 0:
		return fmt.Sprintf("start (%v)", p.Start())
	case 1:
		if m != nil && m.pid != 0 {
			m.stopping = true
		}
		return fmt.Sprintf("stop (%v)", p.Stop())
	case 2:
		return fmt.Sprintf("signal (%v)", p.Signal(syscall.SIGUSR1))
	case 3:
		if w != nil && m.answered < starts && m.pid == 0 {
			m.answered++
			*nextPid++
			m.pid = *nextPid
			p.OnStarted(m.pid, e.Now())
			return fmt.Sprintf("started %d", m.pid)
		}
	case 4:
		if w != nil && m.answered < starts && m.pid == 0 {
			m.answered++
			p.OnSpawnError("no such file")
			return "spawn error"
		}
	case 5:
		if w != nil && m.pid != 0 {
			pid := m.pid
			m.pid, m.stopping = 0, false
			p.OnExited(Exit{Pid: pid, Code: r.IntN(3) - 1, Signal: syscall.SIGTERM, Killed: r.IntN(4) == 0})
			return fmt.Sprintf("exited %d", pid)
		}
	case 6:
		if w != nil && m.answered == 0 && m.pid == 0 {
			p.OnWorkerFailed("set-up failed")
			return "worker failed"
		}
	case 7:
		if w != nil && r.IntN(3) == 0 {
			p.OnWorkerLost("killed")
			return "worker lost"
		}
	}
	d := time.Duration(r.IntN(2500)) * time.Millisecond
	e.Advance(d)
	return "advance " + d.String()
}

func countOrders(orders []string, o string) int {
	n := 0
	for _, x := range orders {
		if x == o {
			n++
		}
	}
	return n
}

// slotInvariant is what must hold of a slot between events.
func slotInvariant(p *Process) error {
	switch p.state {
	case Running:
		if p.w == nil || p.pid == 0 {
			return fmt.Errorf("RUNNING with worker %v pid %d", p.w, p.pid)
		}
	case Starting, Stopping:
		if p.w == nil {
			return fmt.Errorf("%s without a worker", p.state)
		}
	case Backoff:
		if p.timer == nil {
			return fmt.Errorf("BACKOFF with no retry armed")
		}
	case Stopped, Exited, Fatal:
		if p.pid != 0 {
			return fmt.Errorf("%s with pid %d", p.state, p.pid)
		}
	}
	return nil
}
