package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
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
	// While open it keeps one spare; closed, it leaves only the lock file
	// and the state file behind.
	if names := dirNames(t, dir); len(names) != 3 {
		t.Fatalf("open writer: folder holds %v", names)
	}
	old.Close()
	newer.Close()
	if names := dirNames(t, dir); len(names) != 2 {
		t.Fatalf("closed writers: folder holds %v", names)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// In steady state a write allocates no inode: the file that was
// NAME.json becomes the spare (exchanged, not freed), and the next write
// puts that same inode back. The generation promise holds through the
// exchange: a newer writer's file is never swapped out, and the older
// writer's spare is not what a reader finds.
func TestWriterExchangesItsSpare(t *testing.T) {
	dir, f := stateDir(t)
	w := NewWriter(f)
	defer w.Close()
	file := filepath.Join(dir, "web.json")
	spare := filepath.Join(dir, fmt.Sprintf(".web.json.%d.tmp", os.Getpid()))
	st := &State{Name: "web", State: "STARTING", Generation: 1}
	for i := range 6 {
		st.Restarts = i
		if err := w.Write(st); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue
		}
		before := inodeOf(t, file)
		st.Error = strings.Repeat("x", 5-i) // shorter and shorter: padded
		if err := w.Write(st); err != nil {
			t.Fatal(err)
		}
		if got := inodeOf(t, spare); got != before {
			t.Fatalf("write %d: the spare is inode %d, NAME.json was %d: not exchanged", i, got, before)
		}
		got, err := readAt(f, "web.json")
		if err != nil || got.Error != st.Error || got.Restarts != i {
			t.Fatalf("write %d: read %+v, %v", i, got, err)
		}
	}
	newer := NewWriter(f)
	defer newer.Close()
	if err := newer.Write(&State{Name: "web", State: "RUNNING", Generation: 2}); err != nil {
		t.Fatal(err)
	}
	st.State = "STOPPED"
	if err := w.Write(st); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("the old writer replaced a newer file: %v", err)
	}
	if got, err := readAt(f, "web.json"); err != nil || got.Generation != 2 || got.State != "RUNNING" {
		t.Fatalf("after the old writer's attempt: %+v, %v", got, err)
	}
}

// Readers polling NAME.json while it is rewritten again and again never
// see it torn, empty or invalid: not a tight loop of whole reads, not a
// reader that opens the file and reads it a while later (after the file
// it holds was swapped out and would be the writer's next spare).
func TestWriterNeverTorn(t *testing.T) {
	dir, f := stateDir(t)
	file := filepath.Join(dir, "web.json")
	w := NewWriter(f)
	defer w.Close()
	// Error's length is Restarts: a file from two writes fails the check.
	write := func(i int) {
		t.Helper()
		if err := w.Write(&State{Name: "web", State: "RUNNING", Restarts: i % 300, Error: strings.Repeat("e", i%300), Generation: 1}); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	check := func(b []byte) error {
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("invalid (%d bytes): %w: %q", len(b), err, b)
		}
		if st.Name != "web" || len(st.Error) != st.Restarts {
			return fmt.Errorf("torn: %q", b)
		}
		return nil
	}
	stop := make(chan struct{})
	errs := make(chan error, 3)
	var reads [3]atomic.Int64
	reader := func(k int, read func() ([]byte, error)) {
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			b, err := read()
			if err == nil {
				err = check(b)
			}
			if err != nil {
				errs <- err
				return
			}
			reads[k].Add(1)
		}
	}
	go reader(0, func() ([]byte, error) { return os.ReadFile(file) })
	slow := func(pause func()) func() ([]byte, error) {
		return func() ([]byte, error) {
			r, err := os.Open(file)
			if err != nil {
				return nil, err
			}
			defer r.Close()
			pause()
			return io.ReadAll(r)
		}
	}
	go reader(1, slow(runtime.Gosched))
	go reader(2, slow(func() { time.Sleep(200 * time.Microsecond) }))
	deadline := time.Now().Add(20 * time.Second)
	for i := 1; ; i++ {
		write(i)
		if i >= 3000 && (reads[0].Load() > 1000 && reads[1].Load() > 1000 && reads[2].Load() > 200 || time.Now().After(deadline)) {
			break
		}
		if i%50 == 0 {
			runtime.Gosched()
		}
	}
	close(stop)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("reads: %d %d %d", reads[0].Load(), reads[1].Load(), reads[2].Load())
}
