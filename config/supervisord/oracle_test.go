package supervisord

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// oracleProc is one process as testdata/oracle.py prints what supervisord
// makes of it.
type oracleProc struct {
	Group, Name    string
	Priority       int
	Argv           []string
	Env            map[string]string
	Directory      string
	Umask          int
	Autostart      bool
	Autorestart    string
	Exitcodes      []int
	Startsecs      int
	Startretries   int
	Stopsignal     string
	Stopwaitsecs   int
	Stdout, Stderr string
	StdoutMaxbytes int64 `json:"stdout_maxbytes"`
	StdoutBackups  int   `json:"stdout_backups"`
	StderrMaxbytes int64 `json:"stderr_maxbytes"`
	StderrBackups  int   `json:"stderr_backups"`
	RedirectStderr bool  `json:"redirect_stderr"`
}

type oracleConfig struct {
	Logfile   string
	Processes []oracleProc
}

// TestAgainstSupervisor runs Debian's supervisor on the test configs
// (testdata/oracle.py calls its own ServerOptions.read_config) and checks
// that every process it would run is converted with the same command,
// environment, folder, logs and supervision settings.
func TestAgainstSupervisor(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import supervisor.options").Run() != nil {
		t.Skip("SKIP: Debian's supervisor package is not installed (apt-get install supervisor)")
	}
	host, _ := os.Hostname()
	env := testEnv
	env.Hostname, env.Glob = host, nil
	for _, name := range []string{"allkeys", "expand"} {
		t.Run(name, func(t *testing.T) {
			path, _ := filepath.Abs(goldenConfigs[name])
			cmd := exec.Command("/usr/bin/python3", "testdata/oracle.py", path)
			cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env.Environ...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("oracle.py %s: %v\n%s", path, err, out)
			}
			var want oracleConfig
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, env)
			if err != nil {
				t.Fatal(err)
			}
			// Without a logfile key taskmaster keeps its own default.
			if cfg.Global.LogFile != "" && cfg.Global.LogFile != want.Logfile {
				t.Errorf("logfile %q, supervisord %q", cfg.Global.LogFile, want.Logfile)
			}
			got := byProcess(cfg)
			if len(got) != len(want.Processes) {
				t.Errorf("%d processes, supervisord runs %d", len(got), len(want.Processes))
			}
			for _, w := range want.Processes {
				p, ok := got[w.Group+":"+w.Name]
				if !ok {
					t.Errorf("process %s:%s of supervisord is missing", w.Group, w.Name)
					continue
				}
				compareProc(t, p, w)
			}
		})
	}
}

func byProcess(cfg *Config) map[string]*Program {
	out := map[string]*Program{}
	for _, p := range cfg.Programs {
		for _, name := range p.Processes {
			out[p.Group+":"+name] = p
		}
	}
	return out
}

func compareProc(t *testing.T, p *Program, w oracleProc) {
	t.Helper()
	env := map[string]string{}
	for _, e := range p.Env {
		env[e.Name] = e.Value
	}
	stderr := w.Stderr
	if w.RedirectStderr {
		stderr = w.Stdout
	}
	check := func(what string, got, want any) {
		t.Helper()
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s:%s %s: import %s, supervisord %s", w.Group, w.Name, what, gj, wj)
		}
	}
	check("argv", p.Argv, w.Argv)
	check("env", env, w.Env)
	check("directory", p.Dir, w.Directory)
	check("umask", p.Umask, w.Umask)
	check("priority", p.Priority, w.Priority)
	check("autostart", p.AutoStart, w.Autostart)
	check("autorestart", p.AutoRestart, w.Autorestart)
	check("exitcodes", p.ExitCodes, orEmpty(w.Exitcodes))
	check("startsecs", p.StartSecs, w.Startsecs)
	check("startretries", p.StartRetries, w.Startretries)
	check("stopsignal", p.StopSignal, w.Stopsignal)
	check("stopwaitsecs", p.StopWaitSecs, w.Stopwaitsecs)
	check("stdout", p.Stdout, orDiscard(w.Stdout))
	check("stderr", p.Stderr, orDiscard(stderr))
	if p.Stdout != "" {
		check("stdout_maxbytes", p.StdoutMaxBytes, w.StdoutMaxbytes)
		check("stdout_backups", p.StdoutBackups, w.StdoutBackups)
	}
	if p.Stderr != "" && !w.RedirectStderr {
		check("stderr_maxbytes", p.StderrMaxBytes, w.StderrMaxbytes)
		check("stderr_backups", p.StderrBackups, w.StderrBackups)
	}
}

// orDiscard maps supervisord's AUTO to what the import makes of it.
func orDiscard(s string) string {
	if s == "AUTO" || s == "" || s == "/dev/null" || consolePath().MatchString(s) {
		return ""
	}
	return filepath.Clean(s)
}

func orEmpty(codes []int) []int {
	return append(make([]int, 0), codes...)
}
