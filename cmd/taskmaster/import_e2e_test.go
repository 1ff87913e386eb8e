package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// probeConf is a supervisor config whose job prints its arguments and its
// environment: supervisor's quoting (shlex for command, its
// KEY="val,ue" form for environment), %-expansions and the
// [supervisord] environment all decide what it prints.
const probeConf = `; a supervisor config, converted by taskmaster import
[supervisord]
environment = GLOBAL="g, with comma",SHARED=global

[program:probe]
command = /bin/sh -c 'for a; do echo "arg=$a"; done; env | sort; echo END; exec sleep 1000'
    probe "two words" "it's" %(program_name)s-%(process_num)02d 100%%
environment = A="x,y",B='q"uote',C=plain, EMPTY="",PCT="100%%",
    SHARED=own,HERE=%(here)s
stdout_logfile = %(here)s/probe.log
redirect_stderr = true
autorestart = false
startsecs = 0
`

// TestImportRunsSameCommand converts a supervisor config, runs taskmaster
// on the result, and checks that the job got the argv and environment
// supervisord would have given it.
func TestImportRunsSameCommand(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(probeConf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "taskmaster.yaml")
	if out, code := runBinary(t, "import", "-o", cfg, conf); code != 0 {
		t.Fatalf("import: exit %d:\n%s", code, out)
	}
	launch(t, dir, cfg, nil, "-c", cfg, "--no-shell")
	logPath := filepath.Join(dir, "probe.log")
	var log string
	waitFor(t, 20*time.Second, "the probe's output", func() bool {
		b, _ := os.ReadFile(logPath)
		log = string(b)
		return strings.Contains(log, "END\n")
	})
	lines := strings.Split(log, "\n")
	wantArgs := []string{"arg=two words", "arg=it's", "arg=probe-00", "arg=100%"}
	var args []string
	for _, l := range lines {
		if strings.HasPrefix(l, "arg=") {
			args = append(args, l)
		}
	}
	if !slices.Equal(args, wantArgs) {
		t.Errorf("argv:\n got %q\nwant %q", args, wantArgs)
	}
	wantEnv := []string{"A=x,y", `B=q"uote`, "C=plain", "EMPTY=", "PCT=100%",
		"SHARED=own", "HERE=" + dir, "GLOBAL=g, with comma"}
	for _, kv := range wantEnv {
		if !slices.Contains(lines, kv) {
			t.Errorf("environment lacks %q:\n%s", kv, log)
		}
	}
}

// TestImportCommandLine checks the subcommand's faces: YAML on stdout and
// warnings on stderr, -o writing a 0600 file, FILE:LINE errors and exit 2
// for a config supervisord would refuse, exit 2 for bad usage.
func TestImportCommandLine(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "s.conf")
	os.WriteFile(conf, []byte("[program:a]\ncommand = /bin/true\nstdout_events_enabled = true\n"), 0o644)

	cmd := execBinary("import", conf)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "programs:\n") || !strings.Contains(stdout.String(), "cmd: /bin/true") {
		t.Errorf("stdout is not the YAML:\n%s", stdout.String())
	}
	want := conf + ":3: [program:a] stdout_events_enabled: not supported ("
	if !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr %q, want it to start with %q", stderr.String(), want)
	}

	out := filepath.Join(dir, "out.yaml")
	if text, code := runBinary(t, "import", "-o", out, conf); code != 0 || strings.Contains(text, "programs:") {
		t.Fatalf("import -o: exit %d, output %q", code, text)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("-o file: %v, mode %v", err, fi.Mode())
	}
	if text, code := runBinary(t, "check", "-c", out); code != 0 {
		t.Errorf("check of the imported file: exit %d\n%s", code, text)
	}

	os.WriteFile(conf, []byte("[program:a]\nautostart = maybe\n"), 0o644)
	text, code := runBinary(t, "import", conf)
	if code != 2 || !strings.Contains(text, conf+":1: program section [program:a] does not specify a command") ||
		!strings.Contains(text, conf+":2: autostart: bad value") {
		t.Errorf("refused config: exit %d, output:\n%s", code, text)
	}
	if _, code := runBinary(t, "import"); code != 2 {
		t.Errorf("import without a file: exit %d, want 2", code)
	}
}
