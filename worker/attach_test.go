package worker

import (
	"strings"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
)

// A tty job: a client handed over with Attach talks to the job directly.
func TestAttachTTY(t *testing.T) {
	spec := baseSpec("/bin/sh", "-c", "while read l; do echo got:$l; done")
	spec.TTY = true
	w := spawn(t, spec)
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	expect[*ipc.Started](w)

	client, theirs, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := w.conn.SendFDs(&ipc.Attach{Rows: 30, Cols: 100, DetachKey: []byte{0x1d}}, time.Second, int(theirs.Fd())); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, _, err := client.Recv()
	if a, ok := m.(*ipc.Attached); !ok || a.Name != "test" || err != nil {
		t.Fatalf("first message %+v %v", m, err)
	}
	client.Send(&ipc.Input{Data: []byte("hello\r")}, time.Second)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "got:hello") {
		m, _, err := client.Recv()
		if err != nil {
			t.Fatalf("recv: %v (seen %q)", err, seen.String())
		}
		switch m := m.(type) {
		case *ipc.Output:
			seen.WriteString(m.Data)
		default:
			t.Fatalf("unexpected %s %+v (seen %q)", m.Kind(), m, seen.String())
		}
	}
	w.send(&ipc.Quit{})
	m, _, err = client.Recv()
	for err == nil {
		if je, ok := m.(*ipc.JobExited); ok {
			if je.Signal != 15 {
				t.Fatalf("job exit %+v", je)
			}
			return
		}
		m, _, err = client.Recv()
	}
	t.Fatalf("no JobExited: %v", err)
}

// A client that stops reading holds up neither the job nor other clients.
func TestStalledClientBlocksNobody(t *testing.T) {
	spec := baseSpec("/bin/sh", "-c", "while :; do echo flood-line-flood-line-flood-line; done")
	spec.TTY = true
	w := spawn(t, spec)
	expect[*ipc.Ready](w)
	w.send(&ipc.Start{})
	expect[*ipc.Started](w)
	attach := func() *ipc.Conn {
		client, theirs, err := ipc.Pair()
		if err != nil {
			t.Fatal(err)
		}
		w.conn.SendFDs(&ipc.Attach{Rows: 24, Cols: 80}, time.Second, int(theirs.Fd()))
		theirs.Close()
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		if m, _, err := client.Recv(); err != nil || m.Kind() != ipc.KindAttached {
			t.Fatalf("attach: %v %v", m, err)
		}
		return client
	}
	stalled := attach()
	defer stalled.Close()
	reader := attach()
	defer reader.Close()
	// The reading client keeps getting output well past the point where
	// the stalled one's queue and socket are full.
	got := 0
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		m, _, err := reader.Recv()
		if err != nil {
			t.Fatalf("reader cut off after %d bytes: %v", got, err)
		}
		if o, ok := m.(*ipc.Output); ok {
			got += len(o.Data)
		}
	}
	if got < 1<<20 {
		t.Fatalf("reader got only %d bytes in 2s", got)
	}
	w.send(&ipc.Quit{})
}
