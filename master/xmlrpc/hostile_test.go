package xmlrpc

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/worker/testuser"
)

// Hostile requests over HTTP: each is refused with an HTTP error, and the
// server goes on serving.
func TestHostileRequests(t *testing.T) {
	_, path := serveUnix(t, newFake(t), &logRecorder{})
	c := unixClient(path)
	deep := "<methodCall><methodName>supervisor.getVersion</methodName><params><param><value>" +
		strings.Repeat("<array><data><value>", 10000) + "</value></param></params></methodCall>"
	laughs := `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><methodCall><methodName>&c;</methodName></methodCall>`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"huge body", "POST", "/RPC2", "<methodCall><methodName>" + strings.Repeat("x", 2*MaxBody), 413},
		{"deep nesting", "POST", "/RPC2", deep, 400},
		{"entity declarations", "POST", "/RPC2", laughs, 400},
		{"garbage", "POST", "/RPC2", "\x00\xff<<<", 400},
		{"no method name", "POST", "/", "<methodCall></methodCall>", 400},
		{"GET on RPC2", "GET", "/RPC2", "", 405},
		{"elsewhere", "POST", "/etc/passwd", getVersionCall, 404},
		{"logtail POST", "POST", "/logtail/cat", "", 400},
	} {
		req, _ := newRequest(tc.method, "http://localhost"+tc.path, tc.body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		readAll(t, resp)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		resp, err = c.Post("http://localhost/RPC2", "text/xml", strings.NewReader(getVersionCall))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("after %s: %v %v", tc.name, resp, err)
		}
		readAll(t, resp)
	}
}

// Another user who can reach the socket (here its mode is widened by
// hand, as a careless admin would) is refused by its peer credentials,
// as on the ctl socket, and logged. Without the check it would be served.
func TestUnixPeerOfAnotherUidRefused(t *testing.T) {
	u := testuser.New(t, "rpc", testuser.Options{})
	log := &logRecorder{}
	_, path := serveUnix(t, newFake(t), log)
	for _, dir := range []string{filepath.Dir(filepath.Dir(path)), filepath.Dir(path)} {
		if err := os.Chmod(dir, 0o755); err != nil { // t.TempDir's folders are 0700
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	script := `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
body = b"<methodCall><methodName>supervisor.getPID</methodName></methodCall>"
s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
print(s.recv(100).split(b"\r\n")[0].decode())
`
	// The system's python: a user's pyenv shim under /root is not theirs to run.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("SKIP: /usr/bin/python3 is missing; this test plays another uid with it")
	}
	cmd := u.Command(py, "-c", script, path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "HTTP/1.1 403 Forbidden" {
		t.Fatalf("uid %d got %q, want 403", u.UID, got)
	}
	if !strings.Contains(log.String(), "refused uid") {
		t.Errorf("refusal not logged: %q", log)
	}
}

// The stream of GET /logtail: the last 1024 bytes, then what is appended,
// a truncation notice, the new file after a rotation; 404 for what does
// not exist. The request is supervisorctl's, byte for byte (empty Host,
// an extra CRLF).
func TestLogtail(t *testing.T) {
	f := newFake(t)
	_, path := serveUnix(t, f, &logRecorder{})
	logPath := filepath.Join(f.dir, "cat.out")
	write(t, logPath, strings.Repeat("a", 2000)+"TAIL")

	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	conn.Write([]byte("GET /logtail/cat/stdout HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: Supervisor HTTP Client\r\n\r\n\r\n"))
	r := bufio.NewReader(conn)
	status, _ := r.ReadString('\n')
	if !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("status %q", status)
	}
	var headers strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		headers.WriteString(line)
	}
	if h := headers.String(); !strings.Contains(h, "Transfer-Encoding: chunked") || !strings.Contains(h, "text/plain;charset=utf-8") {
		t.Fatalf("headers:\n%s", h)
	}
	body := &chunkReader{r: r}
	body.expect(t, strings.Repeat("a", 1020)+"TAIL")

	appendTo(t, logPath, "more\n")
	body.expect(t, "more\n")
	write(t, logPath, "")
	body.expect(t, "==> File truncated <==\n")
	// Rotation: the file is renamed away and a new one takes its name.
	os.Rename(logPath, logPath+".1")
	write(t, logPath, "new file\n")
	body.expect(t, "new file\n")

	for _, p := range []string{"/logtail/nope", "/logtail/cat/stderr", "/logtail/cat/other"} {
		resp, err := unixClient(path).Get("http://localhost" + p)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, err := unixClient(path).Get("http://localhost/mainlogtail")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 100)
	n, _ := resp.Body.Read(buf)
	if resp.StatusCode != 200 || string(buf[:n]) != "main log line\n" {
		t.Fatalf("mainlogtail: %d %q", resp.StatusCode, buf[:n])
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(s)
}

// chunkReader reads a chunked body's data as it comes.
type chunkReader struct {
	r   *bufio.Reader
	buf string
}

func (c *chunkReader) expect(t *testing.T, want string) {
	t.Helper()
	for len(c.buf) < len(want) {
		var size int
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q (have %q): %v", want, c.buf, err)
		}
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "%x", &size); err != nil {
			t.Fatalf("chunk size %q", line)
		}
		data := make([]byte, size+2)
		if _, err := io.ReadFull(c.r, data); err != nil {
			t.Fatal(err)
		}
		c.buf += string(data[:size])
	}
	if c.buf[:len(want)] != want {
		t.Fatalf("got %q, want %q", c.buf, want)
	}
	c.buf = c.buf[len(want):]
}

// A held answer (start with wait, here of a process that never gets to
// RUNNING) ends when the server closes, instead of keeping its goroutine
// and connection forever.
func TestCloseEndsHeldAnswers(t *testing.T) {
	f := newFake(t)
	f.hang = true
	s, path := serveUnix(t, f, &logRecorder{})
	done := make(chan error, 1)
	go func() {
		body := `<methodCall><methodName>supervisor.startProcess</methodName><params><param><value>web:web_00</value></param></params></methodCall>`
		resp, err := unixClient(path).Post("http://localhost/RPC2", "text/xml", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, _ := s.process("web:web_00")
		if p.State == StateStarting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("web:web_00 never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("the answer came before RUNNING")
	case <-time.After(300 * time.Millisecond):
	}
	s.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close left the held answer waiting")
	}
}

// readFile with the extreme offsets a client can send (an int64 as a
// string): no overflow, no panic, at most what the file holds.
func TestReadFileExtremeOffsets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("0123456789"), 0o600)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		offset, length int64
		want           string
	}{
		{math.MinInt64, 0, "0123456789"},
		{-3, 0, "789"},
		{math.MaxInt64, 0, ""},
		{math.MaxInt64, math.MaxInt64, ""},
		{2, math.MaxInt64, "23456789"},
		{4, 2, "45"},
	} {
		got, err := readFile(f, tc.offset, tc.length)
		if err != nil || got != tc.want {
			t.Errorf("readFile(%d, %d) = %q, %v; want %q", tc.offset, tc.length, got, err, tc.want)
		}
	}
}
