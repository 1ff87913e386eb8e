package statefile

import (
	"errors"
	"os"
	"path/filepath"
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
	err = Write(f, &State{Name: "web", Generation: 1})
	if !errors.Is(err, ErrBusy) || time.Since(start) > 5*lockWait {
		t.Fatalf("got %v after %s", err, time.Since(start))
	}
	// Another slot's writes do not wait on it.
	if err := Write(f, &State{Name: "db", Generation: 1}); err != nil {
		t.Fatal(err)
	}
}

// `taskmaster state` reads what a worker (or anyone who reached the
// folder) put there: a FIFO is never waited on, a symlink never followed,
// a huge file never read whole; each is reported and skipped.
func TestReadStatesHostileFiles(t *testing.T) {
	dir, f := stateDir(t)
	good := &State{Name: "web", State: "RUNNING", Generation: 1}
	if err := Write(f, good); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(secret, []byte(`{"name":"secret","state":"LEAKED"}`), 0o600)
	os.Symlink(secret, filepath.Join(dir, "link.json"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "huge.json"), make([]byte, maxFile+10), 0o644)
	done := make(chan struct{})
	var states []State
	var bad []error
	var err error
	go func() {
		defer close(done)
		states, bad, err = ReadDir(dir)
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

// A Writer keeps its lock file and its last file open between writes,
// and still honours both promises of Write: a newer generation's file is
// never replaced (whether the Writer's own file was replaced or removed
// meanwhile), and a holder of the name's lock is waited for, not ignored.
func TestWriterKeepsPromises(t *testing.T) {
	dir, f := stateDir(t)
	old := NewWriter(f)
	defer old.Close()
	st := &State{Name: "web", State: "STARTING", Generation: 1}
	for range 3 { // its own file: no read needed, each write lands
		if err := old.Write(st); err != nil {
			t.Fatal(err)
		}
	}
	newer := NewWriter(f)
	defer newer.Close()
	if err := newer.Write(&State{Name: "web", State: "RUNNING", Pid: 42, Generation: 2}); err != nil {
		t.Fatal(err)
	}
	st.State = "STOPPED"
	if err := old.Write(st); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("the old writer replaced a newer file: %v", err)
	}
	if err := Remove(f, "web", 2); err != nil {
		t.Fatal(err)
	}
	if err := old.Write(st); err != nil { // no file: nothing newer to keep
		t.Fatal(err)
	}
	states, _, _ := ReadDir(dir)
	if len(states) != 1 || states[0].State != "STOPPED" {
		t.Fatalf("states %+v", states)
	}
	holder, err := os.Open(filepath.Join(dir, ".web.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if err := old.Write(st); !errors.Is(err, ErrBusy) {
		t.Fatalf("a write while another holds the lock: %v", err)
	}
	syscall.Flock(int(holder.Fd()), syscall.LOCK_UN)
	if err := old.Write(st); err != nil {
		t.Fatal(err)
	}
	// One lock file and one state file: no temporary left behind.
	names, _ := os.ReadDir(dir)
	if len(names) != 2 {
		t.Fatalf("folder holds %v", names)
	}
}
