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

// notices collects what a logFile reports.
type notices struct{ warn, info []string }

func (n *notices) add(msg string, info bool) {
	if info {
		n.info = append(n.info, msg)
	} else {
		n.warn = append(n.warn, msg)
	}
}

// A log folder deleted while the job runs: rotation fails, is reported
// once, the job's output goes on to the open file; once the folder is
// back, the next rotation point after the retry delay rotates again and
// says so.
func TestLogFileRotationRetriesAfterFolderComesBack(t *testing.T) {
	logs := filepath.Join(t.TempDir(), "logs")
	os.Mkdir(logs, 0o755)
	path := filepath.Join(logs, "out")
	var n notices
	l, err := openLogFile(path, 10, 2, false, nil, n.add)
	if err != nil {
		t.Fatal(err)
	}
	l.retry = 50 * time.Millisecond
	l.write([]byte("0123456789"))
	os.RemoveAll(logs)
	for i := 0; i < 5; i++ {
		l.write([]byte("lost-"))
	}
	if len(n.warn) != 1 || !strings.Contains(n.warn[0], "rotate "+path) {
		t.Fatalf("warnings %q", n.warn)
	}
	os.Mkdir(logs, 0o755)
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.write([]byte("back\n"))
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rotation never worked again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.write([]byte("new\n"))
	if b, _ := os.ReadFile(path); string(b) != "back\nnew\n" {
		t.Fatalf("new file %q", b)
	}
	if len(n.warn) != 1 || len(n.info) != 1 || !strings.Contains(n.info[0], "rotate "+path+": works again") {
		t.Fatalf("warnings %q, info %q", n.warn, n.info)
	}
}

// A run of failures makes one line, one a period with the count held
// back, and one when it ends.
func TestAlarm(t *testing.T) {
	a := alarm{what: "write /x", every: time.Minute}
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	enospc := syscall.ENOSPC
	var lines []string
	for i := 0; i < 1000; i++ {
		if msg := a.fail(t0.Add(time.Duration(i)*100*time.Millisecond), enospc, 10); msg != "" {
			lines = append(lines, msg)
		}
	}
	// 100 s of failures: the first, then one after a minute.
	want := []string{
		"write /x: no space left on device",
		"write /x: no space left on device (failing since 12:00:00; 599 failures not reported)",
	}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("lines %q", lines)
	}
	if msg := a.ok(t0.Add(100 * time.Second)); msg != "write /x: works again after 1000 failures in 1m40s; 10000 bytes of output lost" {
		t.Fatalf("recovery %q", msg)
	}
	if msg := a.ok(t0.Add(101 * time.Second)); msg != "" {
		t.Fatalf("second recovery %q", msg)
	}
	if msg := a.fail(t0.Add(102*time.Second), errors.New("boom"), 0); msg != "write /x: boom" {
		t.Fatalf("a new run %q", msg)
	}
}

// SIGUSR2 and rotation never wait on a FIFO put where the log was.
func TestLogFileReopenRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	var n notices
	l, err := openLogFile(path, 0, 0, false, nil, n.add)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
	l.Reopen()
	done := make(chan struct{})
	go func() {
		l.write([]byte("still here\n"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		os.WriteFile(path, nil, 0) // let it go
		t.Fatal("reopen blocked on a FIFO")
	}
	if len(n.warn) != 1 || !strings.Contains(n.warn[0], "not a regular file (fifo)") {
		t.Fatalf("warnings %q", n.warn)
	}
	if _, err := openLogFile(path, 0, 0, false, nil, nil); err == nil || err.Error() != "not a regular file (fifo)" {
		t.Fatalf("open of a FIFO: %v", err)
	}
}
