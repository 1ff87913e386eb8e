package xmlrpc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDecodeCallTypes(t *testing.T) {
	body := `<?xml version="1.0"?>
<methodCall><methodName> supervisor.x </methodName><params>
<param><value><int>-7</int></value></param>
<param><value><i4>7</i4></value></param>
<param><value><boolean>1</boolean></value></param>
<param><value><string>a &amp; b</string></value></param>
<param><value>untyped &lt;x&gt;</value></param>
<param><value><double>1.5</double></value></param>
<param><value><dateTime.iso8601>20260102T03:04:05</dateTime.iso8601></value></param>
<param><value><base64>aGVs
bG8=</base64></value></param>
<param><value><array><data><value>a</value><value><int>1</int></value></data></array></value></param>
<param><value><struct><member><name>methodName</name><value><string>m</string></value></member>
<member><name>params</name><value><array><data/></array></value></member></struct></value></param>
<param><value><string/></value></param>
<param><value/></param>
</params></methodCall>`
	c, err := DecodeCall([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(-7), int64(7), true, "a & b", "untyped <x>", 1.5,
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "hello",
		[]any{"a", int64(1)}, map[string]any{"methodName": "m", "params": []any{}}, "", ""}
	if c.Method != "supervisor.x" || !reflect.DeepEqual(c.Params, want) {
		t.Fatalf("got %q %#v\nwant %#v", c.Method, c.Params, want)
	}
	// No <params> means no parameters, as supervisor allows.
	c, err = DecodeCall([]byte(`<methodCall><methodName>a.b</methodName></methodCall>`))
	if err != nil || len(c.Params) != 0 {
		t.Fatalf("%v %v", c, err)
	}
}

// Hostile or broken requests are errors (HTTP 400), never a panic, never
// an expansion.
func TestDecodeCallRefuses(t *testing.T) {
	deep := "<methodCall><methodName>a.b</methodName><params><param><value>" +
		strings.Repeat("<array><data><value>", MaxDepth+1) + "x" +
		strings.Repeat("</value></data></array>", MaxDepth+1) + "</value></param></params></methodCall>"
	for name, body := range map[string]string{
		"empty":          ``,
		"not xml":        `hello`,
		"no method":      `<methodCall><params/></methodCall>`,
		"empty method":   `<methodCall><methodName></methodName></methodCall>`,
		"unclosed":       `<methodCall><methodName>a.b</methodName>`,
		"deep nesting":   deep,
		"billion laughs": `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><methodCall><methodName>&b;</methodName></methodCall>`,
		"external":       `<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodCall><methodName>a.b</methodName><params><param><value>&x;</value></param></params></methodCall>`,
		"undeclared":     `<methodCall><methodName>a.b</methodName><params><param><value>&x;</value></param></params></methodCall>`,
		"nil":            `<methodCall><methodName>a.b</methodName><params><param><value><nil/></value></param></params></methodCall>`,
		"bad int":        `<methodCall><methodName>a.b</methodName><params><param><value><int>x</int></value></param></params></methodCall>`,
		"bad boolean":    `<methodCall><methodName>a.b</methodName><params><param><value><boolean>yes</boolean></value></param></params></methodCall>`,
		"two roots":      `<methodCall><methodName>a.b</methodName></methodCall><methodCall/>`,
		"text in array":  `<methodCall><methodName>a.b</methodName><params><param><value><array><data>x</data></array></value></param></params></methodCall>`,
		"bad encoding":   `<?xml version="1.0" encoding="ebcdic"?><methodCall><methodName>a.b</methodName></methodCall>`,
		"too big":        `<methodCall><methodName>` + strings.Repeat("a", MaxBody) + `</methodName></methodCall>`,
	} {
		if c, err := DecodeCall([]byte(body)); !errors.Is(err, errSyntax) {
			t.Errorf("%s: got %+v, %v; want a syntax error", name, c, err)
		}
	}
}

// FuzzDecodeCall: any bytes decode to a call or an error, and any call
// decoded is answered (a value or a fault) without panicking; the context
// is cancelled so held answers end at once.
func FuzzDecodeCall(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/calls/*.xml")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	s := New(newFake(f), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCall(b)
		if err != nil {
			if c != nil {
				t.Fatal("a call with an error")
			}
			return
		}
		if c.Method == "" {
			t.Fatal("a call without a method")
		}
		if _, err := EncodeResponse(c.Params); err != nil {
			t.Fatalf("decoded params do not encode back: %v", err)
		}
		var f *Fault
		if _, err := DecodeResponse(s.respond(ctx, c.Method, c.Params)); err != nil && !errors.As(err, &f) {
			t.Fatalf("answer to %s is not a methodResponse: %v", c.Method, err)
		}
	})
}

// signalNumber reads a signal as supervisor's signal_number does: Python's
// int() first (so "+10" and "010" are 10), else a name with or without SIG.
func TestSignalNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want syscall.Signal
		ok   bool
	}{
		{"10", 10, true}, {" 15 ", 15, true}, {"+10", 10, true}, {"010", 10, true},
		{"usr1", syscall.SIGUSR1, true}, {"SIGTERM", syscall.SIGTERM, true}, {"sigHup", syscall.SIGHUP, true},
		{"0", 0, false}, {"-9", 0, false}, {"65", 0, false}, {"NOPE", 0, false}, {"", 0, false},
	} {
		got, ok := signalNumber(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("signalNumber(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
