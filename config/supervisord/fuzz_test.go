package supervisord

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/config"
)

// FuzzImport feeds arbitrary bytes to the whole import as a supervisor
// config: it must never panic or hang, must return a Config or non-empty
// Errors each naming FILE:LINE, and WriteYAML must write YAML that
// taskmaster's parser reads without a syntax error. The seed corpus in
// testdata/fuzz/FuzzImport is the test configs and the parser's corner
// cases (rewritten by -update), so a plain go test runs them.
func FuzzImport(f *testing.F) {
	if *update {
		writeFuzzCorpus(f)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "s.conf")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		noFiles := func(string) ([]string, error) { return nil, nil }
		cfg, err := Load(path, Env{Environ: []string{"HOME=/root"}, Hostname: "h", Glob: noFiles})
		if err != nil {
			checkLoadErrors(t, cfg, err, path)
			return
		}
		var y bytes.Buffer
		if err := WriteYAML(&y, cfg); err != nil || len(cfg.Programs) > 100 {
			return // an argv the splitter cannot take is refused; big ones hit YAML limits
		}
		_, perr := config.Parse(filepath.Join(t.TempDir(), "t.yaml"), y.Bytes(), config.Env{Euid: 0})
		var errs config.Errors
		if errors.As(perr, &errs) {
			for _, e := range errs {
				if e.Path == "" {
					t.Fatalf("the YAML written does not parse: %v\n%s", e, y.String())
				}
			}
		}
	})
}

func checkLoadErrors(t *testing.T, cfg *Config, err error, path string) {
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("error %T %q is not a non-empty Errors", err, err)
	}
	if cfg != nil {
		t.Fatal("Config returned along with errors")
	}
	for _, e := range errs {
		if e.File != path || e.Line < 0 {
			t.Fatalf("error not located in %s: %v", path, e)
		}
	}
}

// writeFuzzCorpus writes the seeds: every test config and every INI case
// of TestPythonSemantics.
func writeFuzzCorpus(f *testing.F) {
	dir := filepath.Join("testdata", "fuzz", "FuzzImport")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	seeds := map[string][]byte{}
	for name, path := range goldenConfigs {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		seeds["config-"+name] = b
	}
	for i, c := range semanticsCases {
		if c.Kind == "ini" {
			seeds[fmt.Sprintf("ini-%02d", i)] = []byte(c.Arg)
		}
		if c.Kind == "env" || c.Kind == "split" || c.Kind == "expand" {
			key := map[string]string{"env": "environment", "split": "command", "expand": "command"}[c.Kind]
			arg := strings.ReplaceAll(c.Arg, "\n", "\n ")
			seeds[fmt.Sprintf("%s-%02d", c.Kind, i)] = []byte("[program:p]\ncommand = /bin/true\n" + key + " = " + arg + "\n")
		}
	}
	for name, b := range seeds {
		text := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			f.Fatal(err)
		}
	}
}
