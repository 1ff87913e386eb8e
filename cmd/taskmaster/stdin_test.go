package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sendProcessStdin through supervisor's API, as supervisorctl's fg and
// dashboards send it: a tty job reads it from its terminal; a job without
// a tty has no stdin (NO_FILE), and a stopped one is NOT_RUNNING.
func TestSendProcessStdin(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIP: python3 is needed for the stdlib XML-RPC client")
	}
	m := startMaster(t, `
programs:
  reader:
    cmd: "/bin/sh -c 'read line; echo \"got $line\" > {{DIR}}/got; sleep 1000'"
    tty: true
    starttime: 0
  plain:
    cmd: sleep 1000
    starttime: 0
  idle:
    cmd: sleep 1000
    autostart: false
`)
	m.waitState("reader", "RUNNING", nil)
	m.waitState("plain", "RUNNING", nil)
	out, err := exec.Command("python3", "-c", `
import http.client, socket, sys, xmlrpc.client
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
class Unix(xmlrpc.client.Transport):
    def make_connection(self, host):
        return Conn("localhost")
s = xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=Unix()).supervisor
print(s.sendProcessStdin("reader", "hello\n"))
for name in ("plain", "idle", "nope"):
    try:
        s.sendProcessStdin(name, "x\n")
    except xmlrpc.client.Fault as f:
        print(f.faultCode, f.faultString.split(":")[0])
`, filepath.Join(m.dir, "run", "supervisor.sock")).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	if want := "True\n20 NO_FILE\n70 NOT_RUNNING\n10 BAD_NAME\n"; string(out) != want {
		t.Errorf("answers:\n%s\nwant:\n%s", out, want)
	}
	var got []byte
	waitFor(t, 5*time.Second, "the tty job to read its stdin", func() bool {
		got, _ = os.ReadFile(filepath.Join(m.dir, "got"))
		return strings.Contains(string(got), "got hello")
	})
}
