package supervisord

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testEnv is a fixed machine, so the goldens do not depend on this one.
var testEnv = Env{Environ: []string{"HOME=/home/tester", "TM_IMPORT_TEST=yes"}, Hostname: "testhost", Home: "/home/tester",
	Glob: testGlob}

// testGlob matches inside testdata only: Debian's config includes
// /etc/supervisor/conf.d/*.conf, whatever this machine has there.
func testGlob(pattern string) ([]string, error) {
	abs, _ := filepath.Abs("testdata")
	if !strings.HasPrefix(pattern, abs+"/") {
		return nil, nil
	}
	return filepath.Glob(pattern)
}

// goldenConfigs are the supervisor configs the import is pinned on:
// Debian's own, supervisor's sample, and ours that use every mapped key,
// every expansion and the parser's corners.
var goldenConfigs = map[string]string{
	"debian":  "testdata/debian.conf",
	"sample":  "testdata/sample.conf",
	"allkeys": "testdata/allkeys/supervisord.conf",
	"expand":  "testdata/expand.conf",
}

// convertFile runs the import as `taskmaster import` does, returning the
// YAML and the warnings, with the absolute testdata folder written $TESTDATA.
func convertFile(t *testing.T, path string, env Env) (yaml, warnings string) {
	t.Helper()
	cfg, err := Load(path, env)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	var y, w bytes.Buffer
	if err := WriteYAML(&y, cfg); err != nil {
		t.Fatal(err)
	}
	for _, warn := range cfg.Warnings {
		w.WriteString(warn.String() + "\n")
	}
	abs, _ := filepath.Abs("testdata")
	return strings.ReplaceAll(y.String(), abs, "$TESTDATA"), strings.ReplaceAll(w.String(), abs, "$TESTDATA")
}

func TestGolden(t *testing.T) {
	for name, path := range goldenConfigs {
		t.Run(name, func(t *testing.T) {
			yaml, warnings := convertFile(t, path, testEnv)
			golden(t, "testdata/golden/"+name+".yaml", yaml)
			golden(t, "testdata/golden/"+name+".stderr", warnings)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestOutputPassesCheck validates every converted config with taskmaster's
// own config package, as `taskmaster check` would (as root, so user keys
// are allowed).
func TestOutputPassesCheck(t *testing.T) {
	for name, path := range goldenConfigs {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(path, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			var y bytes.Buffer
			if err := WriteYAML(&y, cfg); err != nil {
				t.Fatal(err)
			}
			data := y.Bytes()
			if _, err := os.Stat("/var/log/supervisor"); err != nil && name == "debian" {
				// Debian's logfile folder comes with its supervisor package.
				t.Logf("no /var/log/supervisor here: checking with a temporary folder in its place")
				data = bytes.ReplaceAll(data, []byte("/var/log/supervisor"), []byte(t.TempDir()))
			}
			out := filepath.Join(t.TempDir(), name+".yaml")
			if _, err := checkYAML(t, out, data); err != nil {
				t.Fatalf("taskmaster check refuses the converted %s:\n%v\n%s", path, err, y.String())
			}
		})
	}
}

// checkYAML parses data as taskmaster's config at path. taskmaster.xmlrpc
// and taskmaster.inet are new keys of the config package; where it does
// not know them yet, they are taken out and the rest is checked (logged).
func checkYAML(t *testing.T, path string, data []byte) (*config.Config, error) {
	t.Helper()
	env := config.Env{Euid: 0, Home: "/root"}
	cfg, err := config.Parse(path, data, env)
	var errs config.Errors
	if err == nil || !errors.As(err, &errs) || !onlyServerKeys(errs) {
		return cfg, err
	}
	t.Logf("config does not know taskmaster.xmlrpc/inet yet; checking without them: %v", err)
	return config.Parse(path, withoutServerKeys(data), env)
}

func onlyServerKeys(errs config.Errors) bool {
	for _, e := range errs {
		if e.Path != "taskmaster.xmlrpc" && !strings.HasPrefix(e.Path, "taskmaster.inet") {
			return false
		}
	}
	return true
}

// withoutServerKeys drops the xmlrpc line and the inet block WriteYAML
// writes.
func withoutServerKeys(data []byte) []byte {
	var out []string
	inInet := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "  xmlrpc:"):
			continue
		case line == "  inet:":
			inInet = true
			continue
		case inInet && strings.HasPrefix(line, "    "):
			continue
		}
		inInet = false
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n"))
}
