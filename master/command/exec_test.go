package command

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master"
)

// writeCounter counts the Writes a command makes: through ctl each is a
// packet (and a wake of the client).
type writeCounter struct {
	b      strings.Builder
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.b.Write(p)
}

func (w *writeCounter) String() string { return w.b.String() }

// `status` of many processes is one Write, not one per line: a status of
// 1000 processes through ctl was 1000 packets and took twice as long.
func TestStatusIsOneWrite(t *testing.T) {
	var yaml strings.Builder
	yaml.WriteString("programs:\n")
	for i := range 300 {
		fmt.Fprintf(&yaml, "  p%03d:\n    cmd: sleep 1000\n    autostart: false\n", i)
	}
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "t.yaml"), []byte(yaml.String()), config.Env{Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	log, err := master.OpenEventLog(filepath.Join(dir, "log"), master.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	s := master.New(cfg, log, master.Options{})
	ran := make(chan struct{})
	go func() { s.Run(); close(ran) }()
	defer func() { <-s.Shutdown(); <-ran }()

	var out writeCounter
	if code := Exec(context.Background(), s, []string{"status"}, &out); code != 0 {
		t.Fatalf("status: %d %q", code, out.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 300 || !strings.HasPrefix(out.String(), "p000 ") {
		t.Fatalf("status printed %d lines:\n%s", n, out.String())
	}
	if out.writes != 1 {
		t.Errorf("status of 300 processes made %d writes, want 1", out.writes)
	}
}
