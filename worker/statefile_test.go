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
