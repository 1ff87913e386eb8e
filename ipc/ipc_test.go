package ipc

import (
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func samples() []Message {
	return []Message{
		&Spec{Name: "web:web_00", Argv: []string{"/bin/sleep", "10"}, Env: []string{"A=1"}, Dir: "/tmp", Umask: 0o22, UID: -1, GID: -1, Stdout: "/tmp/o", StopSignal: 15, StopTimeMs: 10000},
		&Ready{UID: 1000, GID: 1000},
		&Start{},
		&Started{Pid: 42, UnixMs: 1700000000000},
		&SpawnError{Reason: "can't find command '/nope'"},
		&Stop{Signal: 15, TimeoutMs: 3000},
		&Signal{Signal: 1},
		&Exited{Pid: 42, Code: -1, Signal: 9, Killed: true},
		&Status{Name: "web", State: "RUNNING", Restarts: 2},
		&Quit{},
		&Failed{Reason: "setuid: operation not permitted"},
		&Request{Args: []string{"status", "--json"}, Rows: 24, Cols: 80},
		&Output{Data: "web: started\n"},
		&Done{Code: 1},
		&Tail{Stream: "stdout", Offset: 10, Max: 1600, File: 1234},
		&TailData{Stream: "stderr", Data: []byte("x\x00y"), Offset: 3, Next: 6, File: 1234},
		&Clear{},
		&Cleared{Error: "clear /x/app.log: read-only file system"},
		&Reopen{},
		&Notice{Msg: "rotate: permission denied"},
		&Notice{Msg: "write /x: works again", Info: true},
		&Attach{Rows: 24, Cols: 80, DetachKey: []byte{0x1d}},
		&Attached{Name: "web", DetachKey: []byte{0x10, 0x11}},
		&Input{Data: []byte("ls\r")},
		&Resize{Rows: 50, Cols: 132},
		&JobExited{Name: "web", Code: 3},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range samples() {
		p, err := Encode(m)
		if err != nil {
			t.Fatalf("encode %s: %v", m.Kind(), err)
		}
		got, err := Decode(p)
		if err != nil {
			t.Fatalf("decode %s: %v", m.Kind(), err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: got %+v, want %+v", m.Kind(), got, m)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	extra, _ := msgpack.Marshal(map[string]any{"pid": 1, "unix_ms": 2, "evil": 3})
	good, _ := Encode(&Started{Pid: 1})
	cases := map[string]struct {
		p    []byte
		want error
	}{
		"empty":         {nil, ErrEmpty},
		"unknown kind":  {[]byte{0xee, 0x80}, ErrUnknownKind},
		"kind zero":     {[]byte{0, 0x80}, ErrUnknownKind},
		"too large":     {make([]byte, MaxPacket+1), ErrTooLarge},
		"trailing":      {append(append([]byte{}, good...), 0xc0), ErrMalformed},
		"unknown field": {append([]byte{byte(KindStarted)}, extra...), nil},
		"wrong type":    {[]byte{byte(KindStarted), 0x81, 0xa3, 'p', 'i', 'd', 0xa1, 'x'}, nil},
		"truncated":     {good[:len(good)-1], nil},
	}
	for name, c := range cases {
		m, err := Decode(c.p)
		if err == nil {
			t.Errorf("%s: decoded %+v, want an error", name, m)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", name, err, c.want)
		}
	}
}

func TestEncodeTooLarge(t *testing.T) {
	_, err := Encode(&Output{Data: strings.Repeat("x", MaxPacket)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestKindString(t *testing.T) {
	if KindExited.String() != "Exited" || Kind(200).String() != "Kind(200)" {
		t.Fatalf("bad names: %s %s", KindExited, Kind(200))
	}
}

func TestPairSendRecvFDs(t *testing.T) {
	a, bf, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := FileConn(bf)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := a.SendFDs(&Signal{Signal: 10}, time.Second, int(w.Fd())); err != nil {
		t.Fatal(err)
	}
	w.Close()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, files, err := b.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := m.(*Signal); !ok || s.Signal != 10 {
		t.Fatalf("got %+v", m)
	}
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	// The passed descriptor is the pipe's write end: bytes written to it
	// arrive on r.
	if _, err := files[0].WriteString("hi"); err != nil {
		t.Fatal(err)
	}
	files[0].Close()
	got, _ := io.ReadAll(r)
	if string(got) != "hi" {
		t.Fatalf("read %q through the passed fd", got)
	}

	cred, err := b.Peer()
	if err != nil || cred.Pid != int32(os.Getpid()) {
		t.Fatalf("peer %+v, %v", cred, err)
	}

	a.Close()
	if _, _, err := b.Recv(); err != io.EOF {
		t.Fatalf("after close: %v, want io.EOF", err)
	}
}

func TestRecvRejectsGarbage(t *testing.T) {
	a, bf, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := FileConn(bf)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.uc.Write([]byte{0xff, 1, 2, 3})
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := b.Recv(); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("got %v, want ErrUnknownKind", err)
	}
	a.uc.Write(make([]byte, MaxPacket+100))
	if _, _, err := b.Recv(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v, want ErrTruncated", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range samples() {
		p, _ := Encode(m)
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := Decode(p)
		if err != nil {
			return
		}
		// Whatever decodes must encode again and decode to the same value.
		q, err := Encode(m)
		if err != nil {
			t.Fatalf("re-encode %s: %v", m.Kind(), err)
		}
		m2, err := Decode(q)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip %s: %+v vs %+v (%v)", m.Kind(), m, m2, err)
		}
	})
}
