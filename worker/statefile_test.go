package worker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// Issue 10, point 6: an old worker never overwrites the state file of a
// newer one (a new master's, or the next worker of the slot), whatever
// order they write in; the newer writes over the older.
func TestStateFileGenerations(t *testing.T) {
	dir := t.TempDir()
	var warned []string
	warn := func(s string) { warned = append(warned, s) }
	old, err := openStateFile(dir, "web", 1, warn)
	if err != nil {
		t.Fatal(err)
	}
	newer, err := openStateFile(dir, "web", 2, warn)
	if err != nil {
		t.Fatal(err)
	}
	old.update(func(st *statefile.State) { st.State = "RUNNING" })
	old.flush()
	newer.update(func(st *statefile.State) { st.State = "RUNNING"; st.Pid = 42 })
	newer.flush()
	// The old worker's master went away: its last word must not land,
	// although the file it last wrote is gone (it skips the read only
	// while the file there is its own).
	old.update(func(st *statefile.State) { st.State, st.Pid = "STOPPED", 0 })
	old.flush()
	old.update(func(st *statefile.State) { st.State = "STOPPED" })
	old.flush()
	states, bad, err := statefile.ReadDir(dir)
	if err != nil || len(bad) != 0 || len(states) != 1 {
		t.Fatalf("states %v bad %v err %v", states, bad, err)
	}
	if st := states[0]; st.State != "RUNNING" || st.Pid != 42 || st.Generation != 2 {
		t.Fatalf("the old worker overwrote the new one's file: %+v", st)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "newer writer") {
		t.Fatalf("warnings %q", warned)
	}
	// A rename by the old one leaves the newer's file alone too.
	old.rename("web:web_00")
	if _, err := os.Stat(filepath.Join(dir, "web.json")); err != nil {
		t.Fatalf("the old worker removed the newer one's file: %v", err)
	}
}

// Issue 12: the changes of one transition that reach the worker a
// moment apart (the job's pid, then the master's RUNNING a round trip
// later) make one write: the loop arms a settle timer when it goes idle
// with a change pending, and only while one is pending; the last write,
// as the worker ends, is not delayed and leaves no spare behind.
func TestStateFileSettles(t *testing.T) {
	dir := t.TempDir()
	s, err := openStateFile(dir, "web", 1, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	idle := func() bool { return true }
	busy := func() bool { return false }
	file := filepath.Join(dir, "web.json")
	s.flush() // Ready: the file exists; later writes may exchange
	if s.due(idle) != nil {
		t.Fatal("a settle timer armed with nothing pending")
	}
	before, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	s.update(func(st *statefile.State) { st.Pid = 42 })
	if s.due(busy) != nil {
		t.Fatal("a settle timer armed while the loop is busy")
	}
	due := s.due(idle)
	if due == nil {
		t.Fatal("no settle timer for a pending change")
	}
	s.update(func(st *statefile.State) { st.State = "RUNNING" })
	if again := s.due(idle); again != due {
		t.Fatal("a second change re-armed the settle timer (a change must not wait forever)")
	}
	if after, _ := os.Stat(file); !os.SameFile(before, after) {
		t.Fatal("written before the settle delay")
	}
	<-due
	s.fired()
	states, _, _ := statefile.ReadDir(dir)
	if len(states) != 1 || states[0].State != "RUNNING" || states[0].Pid != 42 {
		t.Fatalf("after the settle: %+v", states)
	}
	if s.due(idle) != nil {
		t.Fatal("a settle timer armed after the write")
	}
	s.update(func(st *statefile.State) { st.State = "STOPPED" })
	s.due(idle)
	s.finish()
	if s.armed {
		t.Fatal("the timer still runs after the last write")
	}
	states, _, _ = statefile.ReadDir(dir)
	if len(states) != 1 || states[0].State != "STOPPED" {
		t.Fatalf("the last write: %+v", states)
	}
	if spares, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(spares) != 0 {
		t.Fatalf("spares left: %v", spares)
	}
}
