package xmlrpc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// supervisorctl runs Debian's supervisorctl against the socket; it fails
// in CI (which installs it) and skips loudly elsewhere when missing.
func supervisorctl(t *testing.T, sock string, args ...string) (string, int) {
	t.Helper()
	bin, err := exec.LookPath("supervisorctl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("supervisorctl is missing in CI: %v", err)
		}
		t.Skip("SKIP: supervisorctl is missing (apt-get install supervisor); the real-client tests need it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-s", "unix://" + sock}, args...)...)
	cmd.Dir = t.TempDir() // no supervisord.conf found by accident
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("supervisorctl %v: %v\n%s", args, err, out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

func TestSupervisorctl(t *testing.T) {
	_, sock := serveUnix(t, newFake(t), &logRecorder{})

	out, code := supervisorctl(t, sock, "status")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{
		`^bad +FATAL +cannot find command 'nope'$`,
		`^cat +RUNNING +pid 4242, uptime 1 day, 2:03:0\d$`,
		`^crash +STOPPED +Not started$`,
		`^web:web_00 +STOPPED +Not started$`,
		`^web:web_01 +EXITED +[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("status:\n%s", out)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("status line %d %q does not match %s", i, lines[i], re)
		}
	}
	// supervisorctl's exit code 3: some process is not running.
	if code != 3 {
		t.Errorf("status exit %d, want 3", code)
	}
	out, code = supervisorctl(t, sock, "status", "cat")
	if code != 0 || !strings.HasPrefix(out, "cat ") {
		t.Errorf("status cat: %d %q", code, out)
	}
	out, code = supervisorctl(t, sock, "status", "nope")
	if code != 4 || !strings.Contains(out, "nope: ERROR (no such process)") {
		t.Errorf("status nope: %d %q", code, out)
	}

	out, code = supervisorctl(t, sock, "version")
	if code != 0 || out != DefaultVersion+"\n" {
		t.Errorf("version: %d %q", code, out)
	}

	out, code = supervisorctl(t, sock, "pid")
	if code != 0 || !regexp.MustCompile(`^\d+\n$`).MatchString(out) {
		t.Errorf("pid: %d %q", code, out)
	}
	out, code = supervisorctl(t, sock, "pid", "cat")
	if code != 0 || out != "4242\n" {
		t.Errorf("pid cat: %d %q", code, out)
	}
	out, _ = supervisorctl(t, sock, "pid", "nope")
	if !strings.Contains(out, "No such process nope") {
		t.Errorf("pid nope: %q", out)
	}

	out, code = supervisorctl(t, sock, "avail")
	if code != 0 || !regexp.MustCompile(`(?m)^cat +in use +auto +999:999$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^spare +avail +manual +999:999$`).MatchString(out) {
		t.Errorf("avail: %d\n%s", code, out)
	}
}

// More commands, as Ansible's module reads them ("NAME: started").
func TestSupervisorctlCommands(t *testing.T) {
	_, sock := serveUnix(t, newFake(t), &logRecorder{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"start", "web:*"}, "web:web_00: started\nweb:web_01: started\n"},
		{[]string{"start", "cat"}, "cat: ERROR (already started)\n"},
		{[]string{"stop", "web:web_00"}, "web:web_00: stopped\n"},
		{[]string{"signal", "HUP", "cat"}, "cat: signalled\n"},
		{[]string{"tail", "cat"}, "0123456789\n"}, // supervisorctl adds the newline
		{[]string{"tail", "-3", "cat"}, "789\n"},
		{[]string{"maintail"}, "main log line\n\n"},
		{[]string{"clear", "cat"}, "cat: cleared\n"},
		{[]string{"start", "crash"}, "crash: ERROR (abnormal termination)\n"},
		{[]string{"reread"}, "spare: available\nweb: changed\n"},
		{[]string{"add", "spare"}, "spare: added process group\n"},
		{[]string{"remove", "cat"}, "ERROR: process/group still running: cat\n"},
	} {
		out, _ := supervisorctl(t, sock, tc.args...)
		if tc.args[0] == "start" {
			// A group's waited results come in the order its processes
			// finish, as supervisord's do.
			out = sortedLines(out)
		}
		if out != tc.want {
			t.Errorf("supervisorctl %s: got %q, want %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
}

func sortedLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}
