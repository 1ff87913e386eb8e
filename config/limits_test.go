package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repeat builds n copies of f(i).
func repeat(n int, f func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(f(i))
	}
	return b.String()
}

// TestHostileShapes plays issue 10's config bombs and their cousins: each
// must fail with a located error naming the limit, before the parser or
// the decoder spends its time (the 100,000 nested '[' took 62 s
// and 15 GB; the merge-key bomb, minutes).
func TestHostileShapes(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"100000 nested [", "programs: " + strings.Repeat("[", 100_000),
			"t.yaml:1:74: nested too deeply (more than 64 levels)"},
		{"100000 nested {", "programs: " + strings.Repeat("{a: ", 100_000),
			"t.yaml:1:263: nested too deeply (more than 64 levels)"},
		{"nested block lists", "programs: \n" + strings.Repeat("- ", 100_000),
			"t.yaml:2:127: nested too deeply (more than 64 levels)"},
		{"nested block mappings", "programs:\n" + repeat(100, func(i int) string { return strings.Repeat(" ", i+1) + "a:\n" }),
			"t.yaml:65:65: nested too deeply (more than 64 levels)"},
		{"list bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
			repeat(9, func(i int) string {
				prev := string(rune('a' + i))
				return fmt.Sprintf("%c: &%c [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", 'b'+i, 'b'+i, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
			}) + "programs: *j\n",
			"t.yaml:5:36: too many alias expansions (the document would expand to more than 100000 nodes)"},
		{"wide mapping", "programs:\n" + repeat(1001, func(i int) string { return fmt.Sprintf("  p%d: {cmd: x}\n", i) }),
			"t.yaml:1002:3: too many entries in one mapping (more than 1000)"},
		{"wide list", "programs:\n  p:\n    cmd: x\n    exitcodes:\n" + strings.Repeat("    - 0\n", 1001),
			"t.yaml:1005:5: too many entries in one list (more than 1000)"},
		{"wide flow list", "programs: {p: {cmd: x, exitcodes: [" + strings.Repeat("0, ", 1001) + "]}}",
			"t.yaml:1:3034: too many entries in one list (more than 1000)"},
		{"many entries", repeat(31, func(i int) string {
			return fmt.Sprintf("m%d:\n", i) + repeat(999, func(j int) string { return fmt.Sprintf("  k%d: 1\n", j) })
		}), "t.yaml:30001:1: too many entries in the file (more than 30000)"},
		{"empty values", "a:\n" + strings.Repeat("  p:\n", 600) + "b:\n" + strings.Repeat("  p:\n", 600),
			"t.yaml:1003:3: too many empty values (more than 1000)"},
		{"empty flow values", "a: {" + strings.Repeat("p, ", 600) + "}\nb: {" + strings.Repeat("p: , ", 600) + "}",
			"t.yaml:2:2005: too many empty values (more than 1000)"},
		{"documents", strings.Repeat("---\n", 1001),
			"t.yaml:1001:1: too many documents (more than 1000)"},
		{"tokens", strings.Repeat("#\n", 300_000),
			"t.yaml:200001:1: too many YAML tokens (more than 200000)"},
		{"size", "# " + strings.Repeat("x", MaxFileSize),
			"t.yaml:1:1: the file is larger than 1048576 bytes (1 MiB), the limit for a config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml), testEnv(nil))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestLargeConfigWithinLimits makes sure the limits leave room for a big
// real config: 1000 programs sharing settings through an anchor.
func TestLargeConfigWithinLimits(t *testing.T) {
	yaml := "x-common: &common\n  cmd: /bin/true\n  stoptime: 3\n  env: {A: a, B: b, C: c}\n  stdout: none\nprograms:\n" +
		repeat(1000, func(i int) string {
			return fmt.Sprintf("  p%d:\n    <<: *common\n    numprocs: 2\n    starttime: 0\n", i)
		})
	_, err := Parse("t.yaml", []byte(yaml), testEnv(nil))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "x-common" {
		t.Fatalf("want only the unknown key x-common, got %v", err)
	}
}

// TestLoadRefusesNonRegularFiles: a FIFO named as the config must not
// hang `check` or a reload, and a file over the limit is not read whole.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", 2*MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{fifo, "load config " + fifo + ": a FIFO, not a regular file"},
		{dir, "load config " + dir + ": a directory, not a regular file"},
		{big, big + ":1:1: the file is larger than 1048576 bytes (1 MiB), the limit for a config file"},
	}
	for _, tt := range tests {
		for name, load := range map[string]func(string) error{
			"Load":       func(p string) error { _, err := Load(p); return err },
			"LoadGlobal": func(p string) error { _, err := LoadGlobal(p); return err },
		} {
			done := make(chan error, 1)
			go func() { done <- load(tt.path) }()
			select {
			case err := <-done:
				if err == nil || err.Error() != tt.want {
					t.Errorf("%s(%s):\n got %v\nwant %s", name, filepath.Base(tt.path), err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s(%s) blocks", name, filepath.Base(tt.path))
			}
		}
	}
}

// TestControlGlobal: ctl reads the socket from what it can of a broken
// file, and never gets nil.
func TestControlGlobal(t *testing.T) {
	dir := t.TempDir()
	write := func(yaml string) string {
		p := filepath.Join(dir, "taskmaster.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct{ yaml, sock string }{
		{"taskmaster: {socket: tm.sock}\nprograms: {}\n", filepath.Join(dir, "tm.sock")},
		{"taskmaster: {socket: tm.sock}\nprograms: [\n", filepath.Join(dir, "tm.sock")},
		{"taskmaster: {rundir: /nonexistent/r}\nprograms: {web: {cmd: [}}\n", filepath.Join(dir, "run", "taskmaster.sock")},
		{"taskmaster: {socket: tm.sock\n", filepath.Join(dir, "run", "taskmaster.sock")},
		{strings.Repeat("[", 100), filepath.Join(dir, "run", "taskmaster.sock")},
	}
	for _, tt := range tests {
		g, err := ControlGlobal(write(tt.yaml))
		if g == nil || g.Socket != tt.sock {
			t.Errorf("ControlGlobal(%q) = %+v, %v; want socket %s", tt.yaml, g, err, tt.sock)
		}
		if (err == nil) != (tt.yaml == tests[0].yaml) {
			t.Errorf("ControlGlobal(%q): error %v", tt.yaml, err)
		}
	}
	g, err := ControlGlobal(filepath.Join(dir, "missing.yaml"))
	if g == nil || g.Socket != filepath.Join(dir, "run", "taskmaster.sock") || err == nil {
		t.Errorf("missing file: %+v, %v", g, err)
	}
}
