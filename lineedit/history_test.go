package lineedit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func checkMode(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", path, fi.Mode().Perm())
	}
}

func TestHistoryPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h := newHarness(t, Config{Prompt: "> ", HistoryFile: path}, 100, 80)
	checkMode(t, path) // created at New, before any line
	for _, step := range []struct{ in, file string }{
		{"status\r", "status"},
		{"status\r", "status"},        // consecutive duplicate
		{" secret token\r", "status"}, // leading space
		{"\r", "status"},              // blank
		{"   \r", "status"},           // blank
		{"start web\r", "status|start web"},
		{"status\r", "status|start web|status"}, // not consecutive
	} {
		h.typeKeys(step.in)
		h.next()
		// Appended at once: a crash right now loses nothing.
		if got := strings.Join(readLines(t, path), "|"); got != step.file {
			t.Errorf("after %q: file %q, want %q", step.in, got, step.file)
		}
	}
	checkMode(t, path)

	// A new Editor loads it.
	h2 := newHarness(t, Config{Prompt: "> ", HistoryFile: path}, 100, 80)
	h2.typeKeys("\x1b[A\x1b[A")
	if line, _ := h2.state(); line != "start web" {
		t.Errorf("reloaded history: Up Up = %q", line)
	}
}

func TestHistoryFixesMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	if err := os.WriteFile(path, []byte("ls\nls\n\n ps\nw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(strings.NewReader(""), new(strings.Builder), Config{HistoryFile: path})
	if err != nil {
		t.Fatal(err)
	}
	checkMode(t, path)
	if got := strings.Join(e.History(), "|"); got != "ls|w" {
		t.Errorf("loaded %q, want filtered \"ls|w\"", got)
	}
}

func TestHistoryCap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history")
	var sb strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&sb, "cmd %d\n", i)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := New(strings.NewReader(""), new(strings.Builder), Config{HistoryFile: path})
	if err != nil {
		t.Fatal(err)
	}
	hist := e.History()
	if len(hist) != historyMax || hist[0] != "cmd 500" || hist[len(hist)-1] != "cmd 1499" {
		t.Fatalf("loaded %d entries %q..%q", len(hist), hist[0], hist[len(hist)-1])
	}
	if n := len(readLines(t, path)); n != historyMax {
		t.Errorf("file compacted to %d lines at load, want %d", n, historyMax)
	}
	for i := range 5 {
		if err := e.AddHistory(fmt.Sprintf("new %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	lines := readLines(t, path)
	if len(lines) != historyMax || lines[0] != "cmd 505" || lines[len(lines)-1] != "new 4" {
		t.Errorf("file has %d lines %q..%q", len(lines), lines[0], lines[len(lines)-1])
	}
	checkMode(t, path)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestHistoryFileError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "history")
	_, err := New(strings.NewReader(""), new(strings.Builder), Config{HistoryFile: path})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("New with unusable history file: %v", err)
	}
}

func TestHistoryWriteFailureWarnsOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history")
	h := newHarness(t, Config{Prompt: "> ", HistoryFile: path}, 100, 80)
	os.Remove(path)
	os.Mkdir(path, 0o700) // appends now fail
	h.typeKeys("a\rb\r")
	for _, want := range []string{"a", "b"} {
		if r := h.next(); r.line != want || r.err != nil {
			t.Errorf("ReadLine = %q, %v; want %q (history errors must not lose the line)", r.line, r.err, want)
		}
	}
	if n := strings.Count(h.output(), "warning: history not saved"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%q", n, h.output())
	}
}
