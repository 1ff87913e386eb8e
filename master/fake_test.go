package master

import (
	"fmt"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/ipc"
)

// fakeClock runs timers only when the test advances it.
type fakeClock struct {
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 10, 4, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves time forward, firing due timers in order.
func (c *fakeClock) Advance(d time.Duration) {
	end := c.now.Add(d)
	for {
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		if len(c.timers) == 0 || c.timers[0].at.After(end) {
			break
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		if !t.stopped {
			c.now = t.at
			t.f()
		}
	}
	c.now = end
}

// fakeWorker records the orders it is given.
type fakeWorker struct {
	id     int
	orders []string
}

func (w *fakeWorker) Start() { w.orders = append(w.orders, "start") }
func (w *fakeWorker) Stop(sig syscall.Signal, d time.Duration) {
	w.orders = append(w.orders, fmt.Sprintf("stop %s %s", config.SignalName(sig), d))
}
func (w *fakeWorker) Signal(sig syscall.Signal) {
	w.orders = append(w.orders, "signal "+config.SignalName(sig))
}
func (w *fakeWorker) Status(ipc.Status) {}
func (w *fakeWorker) Quit()             { w.orders = append(w.orders, "quit") }
func (w *fakeWorker) Tail(t ipc.Tail, reply func(*ipc.TailData)) {
	reply(&ipc.TailData{Stream: t.Stream})
}
func (w *fakeWorker) Clear(reply func(*ipc.Cleared)) {
	w.orders = append(w.orders, "clear")
	reply(&ipc.Cleared{})
}
func (w *fakeWorker) Reopen() { w.orders = append(w.orders, "reopen") }

func (w *fakeWorker) Input(data []byte) { w.orders = append(w.orders, "input "+string(data)) }
func (w *fakeWorker) Attach(f *os.File, a *ipc.Attach) {
	f.Close()
	w.orders = append(w.orders, "attach")
}

// fakeEnv is a Process's owner with a fake clock and fake workers, and
// every state change recorded.
type fakeEnv struct {
	*fakeClock
	t        *testing.T
	workers  []*fakeWorker
	spawnErr error
	states   []State
	events   []Event
}

func newFakeEnv(t *testing.T) *fakeEnv { return &fakeEnv{fakeClock: newFakeClock(), t: t} }

func (e *fakeEnv) Post(f func()) { f() }

func (e *fakeEnv) NewWorker(p *Process) (Worker, error) {
	if e.spawnErr != nil {
		return nil, e.spawnErr
	}
	w := &fakeWorker{id: len(e.workers)}
	e.workers = append(e.workers, w)
	return w, nil
}

func (e *fakeEnv) Changed(p *Process, from State, ev Event) {
	if ev.Err {
		e.t.Errorf("%s: error event: %s", p.Name, ev.Msg)
	}
	if from != p.state {
		e.states = append(e.states, p.state)
	}
	e.events = append(e.events, ev)
}

// starts counts the Start orders across all workers.
func (e *fakeEnv) starts() int {
	n := 0
	for _, w := range e.workers {
		for _, o := range w.orders {
			if o == "start" {
				n++
			}
		}
	}
	return n
}

func (e *fakeEnv) last() *fakeWorker { return e.workers[len(e.workers)-1] }
