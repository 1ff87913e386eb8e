package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// return either a Config or Errors, and a Config must keep the invariants
// the package doc promises. The seed corpus in testdata/fuzz/FuzzParse is
// the good and bad test files (rewritten by -update), so a plain go test
// runs them.
func FuzzParse(f *testing.F) {
	if *update {
		writeFuzzCorpus(f)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz/taskmaster.yaml", data, testEnv(nil))
		if err != nil {
			checkErrors(t, cfg, err)
			return
		}
		checkInvariants(t, cfg)
		_ = cfg.Names()
		_ = cfg.Warnings()
	})
}

func checkErrors(t *testing.T, cfg *Config, err error) {
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("error %T %q is not a non-empty Errors", err, err)
	}
	if cfg != nil {
		t.Fatal("Config returned along with errors")
	}
	checkSorted(t, errs)
	for _, e := range errs {
		if e.File != "fuzz/taskmaster.yaml" || e.Msg == "" {
			t.Errorf("malformed error %#v", e)
		}
	}
	_ = err.Error()
}

// writeFuzzCorpus turns every testdata/{good,bad}/*.yaml into a seed file
// in Go's corpus format.
func writeFuzzCorpus(f *testing.F) { writeCorpus(f, "FuzzParse", nil) }

// writeCorpus writes the seed corpus of the fuzz target name: every
// testdata/{good,bad}/*.yaml and the extra seeds.
func writeCorpus(f *testing.F, name string, extra map[string][]byte) {
	dir := filepath.Join("testdata", "fuzz", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	seeds := maps.Clone(extra)
	if seeds == nil {
		seeds = map[string][]byte{}
	}
	for _, kind := range []string{"good", "bad"} {
		files, _ := filepath.Glob(filepath.Join("testdata", kind, "*.yaml"))
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			seeds[kind+"-"+strings.TrimSuffix(filepath.Base(path), ".yaml")] = data
		}
	}
	for name, data := range seeds {
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(seed), 0o644); err != nil {
			f.Fatal(err)
		}
	}
}
