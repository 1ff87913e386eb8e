package xmlrpc

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logRecorder keeps what the server logs.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// serveUnix serves b on a fresh socket; the server closes at cleanup.
func serveUnix(t *testing.T, b Backend, log *logRecorder) (*Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "supervisor.sock")
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, b, ln, nil, log), path
}

// serveTCP serves b on a loopback port with auth.
func serveTCP(t *testing.T, b Backend, auth *Auth, log *logRecorder) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, b, ln, auth, log)
	return ln.Addr().String()
}

func serve(t *testing.T, b Backend, ln net.Listener, auth *Auth, log *logRecorder) *Server {
	s := New(b, Options{Logf: log.logf})
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, auth) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// python runs testdata/client.py (or code given with -c) with a deadline.
func python(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIP: python3 is missing; the stdlib XML-RPC client tests need it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "python3", args...).CombinedOutput()
	return string(out), err
}

func TestPythonClientUnix(t *testing.T) {
	_, path := serveUnix(t, newFake(t), &logRecorder{})
	out, err := python(t, "testdata/client.py", "unix", path)
	if err != nil || strings.TrimSpace(out) != "OK" {
		t.Fatalf("client.py over the unix socket: %v\n%s", err, out)
	}
}

func TestPythonClientTCPWithAuth(t *testing.T) {
	sum := sha1.Sum([]byte("s3cret"))
	for _, pw := range []string{"s3cret", "{SHA}" + hex.EncodeToString(sum[:])} {
		log := &logRecorder{}
		addr := serveTCP(t, newFake(t), &Auth{Username: "admin", Password: pw}, log)
		out, err := python(t, "testdata/client.py", "tcp", "http://admin:s3cret@"+addr+"/RPC2")
		if err != nil || strings.TrimSpace(out) != "OK" {
			t.Fatalf("client.py over TCP (password %q): %v\n%s", pw, err, out)
		}
		if log.String() != "" {
			t.Errorf("a good password was logged: %s", log)
		}
	}
}

// A wrong password or none is a 401 with supervisor's challenge; a wrong
// one is logged.
func TestTCPAuthRefused(t *testing.T) {
	log := &logRecorder{}
	addr := serveTCP(t, newFake(t), &Auth{Username: "admin", Password: "s3cret"}, log)
	script := `
import sys, xmlrpc.client
for url in sys.argv[1:]:
    try:
        xmlrpc.client.ServerProxy(url).supervisor.getVersion()
    except xmlrpc.client.ProtocolError as e:
        print(e.errcode, {k.lower(): v for k, v in e.headers.items()}.get('www-authenticate'))
    else:
        print('served')
`
	out, err := python(t, "-c", script, "http://admin:wrong@"+addr+"/RPC2", "http://"+addr+"/RPC2", "http://other:s3cret@"+addr+"/RPC2")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := strings.Repeat("401 Basic realm=\"default\"\n", 3)
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	logged := log.String()
	if !strings.Contains(logged, `refused user "admin"`) || !strings.Contains(logged, `refused user "other"`) || strings.Count(logged, "\n") != 1 {
		t.Errorf("want the two wrong passwords logged, got:\n%s", logged)
	}
}

// unixClient is an HTTP client over the socket at path.
func unixClient(path string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}},
	}
}

const getVersionCall = `<?xml version='1.0'?><methodCall><methodName>supervisor.getVersion</methodName><params></params></methodCall>`

// The socket is 0600, and every request keeps its connection (supervisorctl
// sends a command's calls on one).
func TestUnixSocketModeAndKeepAlive(t *testing.T) {
	_, path := serveUnix(t, newFake(t), &logRecorder{})
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v: want a socket of mode 0600", fi.Mode(), err)
	}
	conns := 0
	var mu sync.Mutex
	c := unixClient(path)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		mu.Lock()
		conns++
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}
	for range 3 {
		resp, err := c.Post("http://localhost/RPC2", "text/xml", strings.NewReader(getVersionCall))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(body, "<string>3.0</string>") || resp.Header.Get("Content-Type") != "text/xml" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	if conns != 1 {
		t.Errorf("3 calls took %d connections, want 1 (keep-alive)", conns)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func newRequest(method, url, body string) (*http.Request, error) {
	return http.NewRequest(method, url, strings.NewReader(body))
}
