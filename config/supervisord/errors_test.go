package supervisord

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefused checks that what supervisord refuses is refused, each
// problem named by FILE:LINE, all of them at once.
func TestRefused(t *testing.T) {
	cases := []struct {
		name, conf string
		want       []string
	}{
		{"no header", "command = x\n", []string{"s.conf:1: no section header"}},
		{"no delimiter", "[program:a]\ncommand = /bin/true\nbogus line\n", []string{"s.conf:3: parsing error"}},
		{"no command", "[supervisord]\n\n[program:a]\nautostart = true\n", []string{"s.conf:3: program section [program:a] does not specify a command"}},
		{"bad values", "[program:a]\ncommand = /bin/true\nautostart = maybe\nstartsecs = 1.5\nexitcodes = 0,300\nstopsignal = SIGFOO\numask = 8\nstdout_logfile_maxbytes = 5TB\n",
			[]string{"s.conf:3: autostart: bad value: not a valid boolean", "s.conf:4: startsecs", "s.conf:5: exitcodes", "s.conf:6: stopsignal", "s.conf:7: umask", "s.conf:8: stdout_logfile_maxbytes"}},
		{"unknown name", "[program:a]\ncommand = /bin/echo %(nope)s\n", []string{"s.conf:2: command: name cannot be expanded"}},
		{"bad format", "[program:a]\ncommand = /bin/echo 100%\n", []string{"s.conf:2: command: badly formatted"}},
		{"process_num needed", "[program:a]\ncommand = /bin/true\nnumprocs = 2\n", []string{"s.conf:1: process_name: bad value: %(process_num) must be present"}},
		{"stopasgroup", "[program:a]\ncommand = /bin/true\nstopasgroup = true\nkillasgroup = false\n", []string{"s.conf:4: killasgroup"}},
		{"environment", "[program:a]\ncommand = /bin/true\nenvironment = A=\"open\n", []string{"s.conf:3: environment: no closing quotation"}},
		{"pairs", "[program:a]\ncommand = /bin/true\nenvironment = A=1,B\n", []string{"s.conf:3: environment: unexpected end of key/value pairs"}},
		{"command quote", "[program:a]\ncommand = /bin/echo 'x\n", []string{"s.conf:2: command: no closing quotation"}},
		{"bad name", "[program:a b]\ncommand = /bin/true\n", []string{"s.conf:1: [program:a b]: bad value: invalid name"}},
		{"inet auth", "[inet_http_server]\nport = 9001\nusername = u\n", []string{"s.conf:1: section [inet_http_server] contains incomplete authentication"}},
		{"inet port", "[inet_http_server]\nport = host:99999\n", []string{"s.conf:2: port: bad value"}},
		{"include", "[include]\n", []string{"s.conf:1: [include] section has no files setting"}},
		{"group", "[group:g]\nprograms = nope\n", []string{"s.conf:2: programs: bad value: [group:g] names unknown program nope"}},
		{"utf8", "[program:a]\ncommand = \xff\n", []string{"s.conf:2: not valid UTF-8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "s.conf")
			if err := os.WriteFile(path, []byte(c.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, Env{})
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %v", err)
			}
			text := strings.ReplaceAll(err.Error(), dir+"/", "")
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			if len(errs) != len(c.want) {
				t.Errorf("%d errors, want %d:\n%s", len(errs), len(c.want), text)
			}
		})
	}
}

// TestNotARegularFile checks that a FIFO named by an include glob is
// refused, not opened for a read that would block the import.
func TestNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "s.conf")
	os.WriteFile(main, []byte("[include]\nfiles = *.fifo\n"), 0o644)
	if err := mkfifo(filepath.Join(dir, "x.fifo")); err != nil {
		t.Fatal(err)
	}
	_, err := Load(main, Env{})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("want a not-a-regular-file error, got %v", err)
	}
}

// TestValuesStayValues checks that a value holding newlines and YAML
// syntax (a continuation line) cannot add keys or programs to the YAML,
// neither through the value nor through the warning comments about it.
func TestValuesStayValues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.conf")
	conf := "[program:a]\ncommand = /bin/true\ndirectory = rel\n  programs: {evil: {cmd: /bin/false}}\n" +
		"environment = X=\"1\n  evil: 2\"\nstdout_events_enabled = true\n"
	os.WriteFile(path, []byte(conf), 0o644)
	cfg, err := Load(path, Env{})
	if err != nil {
		t.Fatal(err)
	}
	var y strings.Builder
	if err := WriteYAML(&y, cfg); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "rel\nprograms: {evil: {cmd: /bin/false}}"), 0o755)
	got, err := checkYAML(t, filepath.Join(dir, "t.yaml"), []byte(y.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, y.String())
	}
	if len(got.Programs) != 1 || got.Programs["a"] == nil || len(got.Programs["a"].Env) != 1 || got.Programs["a"].Env["X"] != "1\nevil: 2" {
		t.Fatalf("the YAML says something else than the config:\n%s", y.String())
	}
}

// A program written as one program per process gets each warning about a
// value once, not once per process, when the warning is the same.
func TestWarningsOncePerValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.conf")
	conf := "[program:web]\ncommand = ./bin/web --port 80%(process_num)02d\nnumprocs = 3\n" +
		"process_name = %(program_name)s_%(process_num)02d\n"
	os.WriteFile(path, []byte(conf), 0o644)
	cfg, err := Load(path, Env{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, w := range cfg.Warnings {
		seen[w.String()]++
	}
	for w, n := range seen {
		if n > 1 {
			t.Errorf("%d times: %s", n, w)
		}
	}
	if len(cfg.Programs) != 3 || len(seen) != 2 {
		t.Errorf("%d programs, warnings %v", len(cfg.Programs), seen)
	}
}
