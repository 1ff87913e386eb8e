package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// quickCases are configs for the quick reader: answer says whether it
// must answer (true) or must leave the file to the full load (false).
// Whatever it answers must be the full load's answer.
var quickCases = []struct {
	name   string
	yaml   string
	answer bool
}{
	{"plain", "taskmaster:\n  rundir: run\n  socket: run/ctl.sock\n  logfile: tm.log\nprograms:\n  web:\n    cmd: sleep 1\n", true},
	{"no section", "programs:\n  web:\n    cmd: sleep 1\n", true},
	{"section last", "programs:\n  web:\n    cmd: sleep 1\ntaskmaster:\n  rundir: /tmp\n", true},
	{"section null", "taskmaster:\nprograms:\n  web:\n    cmd: sleep 1\n", true},
	{"section tilde", "taskmaster: ~\nprograms: \n", true},
	{"comments and blanks", "# top\ntaskmaster:\n\n# inside, at column 0\n  rundir: run # trailing\n   # deeper\nprograms:\n  web:\n    cmd: \"sleep 1\" # quoted\n    args:\n      - 'a ''b'''\n      - \"c\\\"d\"\n", true},
	{"errors elsewhere", "taskmaster:\n  rundir: run\nprograms:\n  web:\n    cmd: sleep 1\n    bogus: 1\n  db:\n    numprocs: x\n", true},
	{"empty file", "", true},
	{"history tilde", "taskmaster:\n  history: ~/h\nprograms: \n", true},
	{"xmlrpc off", "taskmaster:\n  xmlrpc: none\n  inet:\n    listen: 127.0.0.1:9001\nprograms: \n", true},
	{"escapes", "taskmaster:\n  rundir: \"/tmp\"\nprograms:\n  web:\n    cmd: \"a\\\\ \\\" \\n \\t\"\n", true},

	{"error in section", "taskmaster:\n  rundir: /nonexistent/a/b\nprograms: \n", false},
	{"unknown key in section", "taskmaster:\n  bogus: 1\nprograms: \n", false},
	{"duplicate section", "taskmaster:\n  rundir: /tmp\ntaskmaster:\n  rundir: run\nprograms: \n", false},
	{"alias into section", "defaults: &d\n  x: /tmp\ntaskmaster:\n  rundir: *d\nprograms: \n", false},
	{"anchor on section", "taskmaster: &t\n  rundir: /tmp\nprograms: \n", false},
	{"merge key", "base:\n  rundir: /tmp\ntaskmaster:\n  <<: {rundir: /tmp}\nprograms: \n", false},
	{"top-level merge", "<<: {taskmaster: {rundir: /tmp}}\nprograms: \n", false},
	{"flow at top", "{taskmaster: {rundir: /tmp}, programs: {}}\n", false},
	{"flow value", "taskmaster: {rundir: /tmp}\nprograms: {}\n", false},
	{"document marker", "---\ntaskmaster:\n  rundir: /tmp\nprograms: \n", false},
	{"second document", "taskmaster:\n  rundir: /tmp\nprograms: \n---\ntaskmaster:\n  rundir: run\n", false},
	{"tab", "taskmaster:\n\trundir: /tmp\nprograms: \n", false},
	{"tab in value", "taskmaster:\n  rundir: /tmp\nprograms:\n  web:\n    cmd: \"a\tb\"\n", false},
	{"crlf", "taskmaster:\r\n  rundir: /tmp\r\nprograms: \r\n", false},
	{"bom", "\ufefftaskmaster:\n  rundir: /tmp\nprograms: \n", false},
	{"quoted key", "\"taskmaster\":\n  rundir: /tmp\nprograms: \n", false},
	{"tagged key", "!!str taskmaster:\n  rundir: /tmp\nprograms: \n", false},
	{"quote swallows section", "programs:\n  web:\n    cmd: \"sleep\ntaskmaster:\n  socket: /tmp/x.sock\n  \"\n", false},
	{"quote after key with quote", "programs:\n  x \"y: \"z\ntaskmaster:\n  rundir: /tmp\n\"\n", false},
	{"single quote swallows", "programs:\n  web:\n    cmd: 'sleep\ntaskmaster:\n  rundir: /tmp\n  '\n", false},
	{"block scalar", "programs:\n  web:\n    cmd: |\n      sleep 1\ntaskmaster:\n  rundir: /tmp\n", false},
	{"root block scalar", "|\ntaskmaster:\n  rundir: /tmp\n", false},
	{"multi-line plain", "programs:\n  web:\n    cmd: sleep\n      1\ntaskmaster:\n  rundir: /tmp\n", false},
	{"syntax error before section", "programs:\n  web: [\ntaskmaster:\n  rundir: /tmp\n", false},
	{"bad indentation", "programs:\n    web:\n      cmd: x\n  db:\n    cmd: y\ntaskmaster:\n  rundir: /tmp\n", false},
	{"list at key column", "programs:\n  web:\n    args:\n    - a\ntaskmaster:\n  rundir: /tmp\n", false},
	{"nested list", "programs:\n  web:\n    args: - a\ntaskmaster:\n  rundir: /tmp\n", false},
	{"root list", "- taskmaster\n", false},
	{"explicit key", "? taskmaster\n: {rundir: /tmp}\nprograms: \n", false},
	{"directive", "%YAML 1.2\n---\ntaskmaster:\n  rundir: /tmp\n", false},
	{"non-ascii", "taskmaster:\n  rundir: /tmp\nprograms:\n  web:\n    cmd: echo \u00e9\n", false},
	{"line separator", "programs:\n  web:\n    cmd: \"a\u2028taskmaster:\"\n", false},
	{"bad escape before section", "programs:\n  web:\n    cmd: \"\\q\"\ntaskmaster:\n  rundir: /tmp\n", false},
	{"too many programs, section last", programsYAML(maxEntries+1) + "taskmaster:\n  rundir: /tmp\n", false},
	{"too many empty values", emptyValuesYAML(maxEmpty+1) + "taskmaster:\n  rundir: /tmp\n", false},
}

// programsYAML is n programs, as the benchmarks write them.
func programsYAML(n int) string {
	return repeatYAML("programs:\n", "  p%04d:\n    cmd: sleep 1000\n    starttime: 0\n    autorestart: always\n", n)
}

// emptyValuesYAML is one program with n environment variables, each null.
func emptyValuesYAML(n int) string {
	return repeatYAML("programs:\n  web:\n    env:\n", "      K%d:\n", n)
}

// repeatYAML is head then format written for 0..n-1.
func repeatYAML(head, format string, n int) string {
	var b strings.Builder
	b.WriteString(head)
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// TestQuickGlobal checks that the quick reader answers for plain files,
// leaves every tricky one to the full load, and that what it answers is
// what the full load reads: ControlGlobal's Global (for ctl) and
// LoadGlobal's (for state).
func TestQuickGlobal(t *testing.T) {
	cases := append(quickCases[:len(quickCases):len(quickCases)], struct {
		name   string
		yaml   string
		answer bool
	}{"1000 programs", "taskmaster:\n  logfile: taskmaster.log\n  rundir: run\n" + programsYAML(maxEntries), true})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			answered := checkQuick(t, []byte(c.yaml))
			if answered != c.answer {
				t.Errorf("quick reader answered %v; want %v for\n%s", answered, c.answer, c.yaml)
			}
		})
	}
}

// checkQuick compares the quick reader with the full load on data, in a
// folder of its own (relative paths resolve there; rundir "run" does not
// exist but may be created). It returns whether the quick reader answered.
func checkQuick(t *testing.T, data []byte) bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "taskmaster.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	q, ok := QuickGlobal(path)
	if !ok {
		return false
	}
	g, _ := ControlGlobal(path)
	if !reflect.DeepEqual(q, g) {
		t.Fatalf("quick reader: %+v\nControlGlobal: %+v\nfor %q", q, g, data)
	}
	lg, err := LoadGlobal(path)
	if err != nil {
		t.Fatalf("quick reader answered %+v, LoadGlobal failed: %v\nfor %q", q, err, data)
	}
	if !reflect.DeepEqual(q, lg) {
		t.Fatalf("quick reader: %+v\nLoadGlobal: %+v\nfor %q", q, lg, data)
	}
	return true
}

// FuzzQuickGlobal: whenever the quick reader answers, its answer is the
// full load's. The seeds (testdata/fuzz/FuzzQuickGlobal) are quickCases
// and the files of testdata/good and testdata/bad.
func FuzzQuickGlobal(f *testing.F) {
	if *update {
		writeQuickCorpus(f)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkQuick(t, data)
	})
}

func writeQuickCorpus(f *testing.F) {
	seeds := map[string][]byte{}
	for i, c := range quickCases {
		if len(c.yaml) < 4096 {
			seeds[fmt.Sprintf("case-%02d", i)] = []byte(c.yaml)
		}
	}
	writeCorpus(f, "FuzzQuickGlobal", seeds)
}
