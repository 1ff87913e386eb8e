package master

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/ipc"
)

// hostile is a Supervisor whose workers are workerProcs with no process
// behind them: the test plays the worker's side of the socket.
type hostile struct {
	t   *testing.T
	s   *Supervisor
	ck  *fakeClock
	log string
}

func newHostile(t *testing.T) *hostile {
	h := &hostile{t: t, ck: newFakeClock()}
	cfg := parseCfg(t, "programs:\n  web:\n    cmd: sleep 1\n    starttime: 0\n    autorestart: always\n    startretries: 2\n")
	h.log = filepath.Join(t.TempDir(), "log")
	log, err := OpenEventLog(h.log, h.ck)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	var s *Supervisor
	s = New(cfg, log, Options{Clock: h.ck, Spawn: func(p *Process) (Worker, error) {
		return s.newWorkerProc(p, nil, 1<<16), nil
	}})
	h.s = s
	s.procs["web"].Start()
	h.settle()
	return h
}

func (h *hostile) wp() *workerProc {
	w, _ := h.s.procs["web"].w.(*workerProc)
	return w
}

// settle runs what the loop would: posted work, watchers, and the reaping
// of any worker the master decided to kill (its reader would see EOF).
func (h *hostile) settle() {
	for {
		h.s.runWatchers()
		if len(h.s.posts) > 0 {
			(<-h.s.posts)()
			continue
		}
		var dead *workerProc
		for wp := range h.s.workers {
			if wp.killed && !wp.dead {
				dead = wp
			}
		}
		if dead == nil {
			return
		}
		dead.gone(nil, "")
	}
}

// packet delivers one packet from the current worker as the reader would.
func (h *hostile) packet(b []byte) {
	wp := h.wp()
	if wp == nil {
		return
	}
	m, err := ipc.Decode(b)
	if err != nil {
		wp.kill("sent a bad packet") // as the reader does
	} else {
		wp.handle(m)
	}
	h.settle()
}

// check asserts the slot is in a coherent state.
func (h *hostile) check() {
	p := h.s.procs["web"]
	switch p.state {
	case Running, Stopping:
		if p.w == nil || p.pid == 0 {
			h.t.Fatalf("%s with worker %v pid %d", p.state, p.w, p.pid)
		}
	case Starting:
		if p.w == nil {
			h.t.Fatalf("STARTING without a worker")
		}
	case Backoff:
		if p.timer == nil {
			h.t.Fatalf("BACKOFF with no retry armed")
		}
	}
	b, _ := os.ReadFile(h.log)
	if strings.Contains(string(b), "invalid transition") {
		h.t.Fatalf("invalid transition:\n%s", b)
	}
}

// ready is the Ready an honest worker of the test's program sends: the
// master's own ids.
func ready() *ipc.Ready { return &ipc.Ready{UID: os.Getuid(), GID: os.Getgid()} }

func enc(t testing.TB, m ipc.Message) []byte {
	b, err := ipc.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHostileWorker(t *testing.T) {
	cases := []struct {
		name    string
		packets []ipc.Message
		raw     []byte
	}{
		{"exit of another pid", []ipc.Message{ready(), &ipc.Started{Pid: 10}, &ipc.Exited{Pid: 11}}, nil},
		{"started twice", []ipc.Message{ready(), &ipc.Started{Pid: 10}, &ipc.Started{Pid: 12}}, nil},
		{"ready twice", []ipc.Message{ready(), ready()}, nil},
		{"unasked tail data", []ipc.Message{ready(), &ipc.TailData{Data: []byte("x"), Next: 1}}, nil},
		{"unasked cleared", []ipc.Message{ready(), &ipc.Cleared{}}, nil},
		{"a master's message", []ipc.Message{&ipc.Spec{Name: "x"}}, nil},
		{"negative pid", []ipc.Message{ready(), &ipc.Started{Pid: -1}}, nil},
		// Issue 10, point 20: the worker's word on its ids is checked,
		// and nothing but Failed comes before Ready, nor Failed after.
		{"other uid", []ipc.Message{&ipc.Ready{UID: os.Getuid() + 1, GID: os.Getgid()}}, nil},
		{"other gid", []ipc.Message{&ipc.Ready{UID: os.Getuid(), GID: os.Getgid() + 1}}, nil},
		{"started before ready", []ipc.Message{&ipc.Started{Pid: 10}}, nil},
		{"spawn error before ready", []ipc.Message{&ipc.SpawnError{Reason: "x"}}, nil},
		{"failed after ready", []ipc.Message{ready(), &ipc.Failed{Reason: "x"}}, nil},
		{"garbage", nil, []byte{0xff, 0x00, 0x13}},
	}
	for _, c := range cases {
		h := newHostile(t)
		first := h.wp()
		for _, m := range c.packets {
			h.packet(enc(t, m))
		}
		if c.raw != nil {
			h.packet(c.raw)
		}
		h.check()
		if !first.killed {
			t.Errorf("%s: the worker was not killed", c.name)
		}
		if p := h.s.procs["web"]; p.w == Worker(first) {
			t.Errorf("%s: the slot still uses the killed worker", c.name)
		}
		if b, _ := os.ReadFile(h.log); !strings.Contains(string(b), "killing worker") {
			t.Errorf("%s: not logged", c.name)
		}
	}
}

// FuzzWorkerPackets feeds arbitrary packet sequences from the worker to
// the master's handling: no panic, no invalid transition, no stuck slot.
func FuzzWorkerPackets(f *testing.F) {
	seed := func(ms ...ipc.Message) []byte {
		var out []byte
		for _, m := range ms {
			b := enc(f, m)
			out = append(out, byte(len(b)))
			out = append(out, b...)
		}
		return out
	}
	f.Add(seed(ready(), &ipc.Started{Pid: 10, UnixMs: 1}, &ipc.Exited{Pid: 10, Code: 1}))
	f.Add(seed(ready(), &ipc.SpawnError{Reason: "x"}, &ipc.Failed{Reason: "y"}))
	f.Add(seed(&ipc.Started{Pid: 10}, &ipc.Exited{Pid: 10, Code: -1, Signal: 9}, &ipc.Started{Pid: 11}))
	f.Add(seed(&ipc.Notice{Msg: "n"}, &ipc.TailData{}, &ipc.Status{}))
	f.Add(seed(ready(), &ipc.Notice{Msg: "n", Info: true}, &ipc.Cleared{Error: "e"}))
	f.Add([]byte{3, 0xff, 0xff, 0xff, 2, byte(ipc.KindReady), 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHostile(t)
		for len(data) > 0 {
			n := int(data[0])
			data = data[1:]
			n = min(n, len(data))
			h.packet(data[:n])
			data = data[n:]
			h.check()
			// Time passes between packets: timers (starttime, backoff) fire.
			h.ck.Advance(1500 * 1e6)
			h.settle()
			h.check()
		}
	})
}
