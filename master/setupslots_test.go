package master

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
)

// Workers in set-up are bounded: a start past the slots waits until one
// worker is Ready, or until setupHold has passed for a worker stuck in its
// set-up; a worker gone before it took a slot never takes one.
func TestSetupSlots(t *testing.T) {
	ck := newFakeClock()
	cfg := parseCfg(t, "programs:\n  a:\n    cmd: sleep 1\n  b:\n    cmd: sleep 1\n  c:\n    cmd: sleep 1\n")
	log, err := OpenEventLog(filepath.Join(t.TempDir(), "log"), ck)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	s := New(cfg, log, Options{Clock: ck})
	s.setups = make(chan struct{}, 1)
	a := s.newWorkerProc(s.procs["a"], nil, 4)
	b := s.newWorkerProc(s.procs["b"], nil, 4)
	c := s.newWorkerProc(s.procs["c"], nil, 4)

	a.holdSetup()
	held := make(chan struct{})
	go func() { b.holdSetup(); close(held) }()
	select {
	case <-held:
		t.Fatal("a second worker took the only set-up slot while the first was in set-up")
	case <-time.After(50 * time.Millisecond):
	}
	a.onReady(readyOf(a))
	waitClosed(t, held, "the slot was not given back at Ready")

	// b is stuck in its set-up: after setupHold the slot goes on anyway.
	ck.Advance(setupHold)
	if len(s.setups) != 0 {
		t.Fatalf("%d set-up slots still held after setupHold", len(s.setups))
	}
	// c is gone before it took a slot: when its launch gets one, it gives
	// it back at once.
	c.releaseSetup()
	heldC := make(chan struct{})
	go func() { c.holdSetup(); close(heldC) }()
	waitClosed(t, heldC, "a worker gone before its set-up did not get through")
	if len(s.setups) != 0 {
		t.Fatal("a worker gone before its set-up kept the slot")
	}
	b.releaseSetup() // Ready after the hold ended: nothing given back twice
	a.releaseSetup()
	if len(s.setups) != 0 {
		t.Fatalf("%d set-up slots held after every release", len(s.setups))
	}
}

func readyOf(wp *workerProc) *ipc.Ready { return &ipc.Ready{UID: wp.uid, GID: wp.gid} }

func waitClosed(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal(msg)
	}
}
