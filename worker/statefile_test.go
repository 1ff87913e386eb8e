package worker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func stateDir(t *testing.T) (string, *os.File) {
	dir := filepath.Join(t.TempDir(), "workers")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return dir, f
}

// Issue 10, point 6: an old worker never overwrites the state file of a
// newer one (a new master's, or the next worker of the slot), whatever
// order they write in; the newer writes over the older.
func TestStateFileGenerations(t *testing.T) {
	dir, _ := stateDir(t)
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
	old.update(func(st *State) { st.State = "RUNNING" })
	newer.update(func(st *State) { st.State = "RUNNING"; st.Pid = 42 })
	// The old worker's master went away: its last word must not land.
	old.update(func(st *State) { st.State, st.Pid = "STOPPED", 0 })
	old.update(func(st *State) { st.State = "STOPPED" })
	states, bad, err := ReadStates(dir)
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

// A name's lock bounds a write's wait: a holder that never lets go
// costs a skipped write, not a stuck worker.
func TestStateFileLockBounded(t *testing.T) {
	dir, f := stateDir(t)
	holder, err := os.OpenFile(filepath.Join(dir, ".web.lock"), os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = WriteState(f, &State{Name: "web", Generation: 1})
	if !errors.Is(err, ErrBusy) || time.Since(start) > 5*lockWait {
		t.Fatalf("got %v after %s", err, time.Since(start))
	}
	// Another slot's writes do not wait on it.
	if err := WriteState(f, &State{Name: "db", Generation: 1}); err != nil {
		t.Fatal(err)
	}
}

// `taskmaster state` reads what a worker (or anyone who reached the
// folder) put there: a FIFO is never waited on, a symlink never followed,
// a huge file never read whole; each is reported and skipped.
func TestReadStatesHostileFiles(t *testing.T) {
	dir, f := stateDir(t)
	good := &State{Name: "web", State: "RUNNING", Generation: 1}
	if err := WriteState(f, good); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(secret, []byte(`{"name":"secret","state":"LEAKED"}`), 0o600)
	os.Symlink(secret, filepath.Join(dir, "link.json"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "huge.json"), make([]byte, maxStateFile+10), 0o644)
	done := make(chan struct{})
	var states []State
	var bad []error
	var err error
	go func() {
		defer close(done)
		states, bad, err = ReadStates(dir)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadStates blocked (on the FIFO?)")
	}
	if err != nil || len(states) != 1 || states[0].Name != "web" || len(bad) != 3 {
		t.Fatalf("states %+v bad %v err %v", states, bad, err)
	}
}
