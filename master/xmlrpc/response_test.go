package xmlrpc

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// DecodeResponse reads a methodResponse back: its value, or a *Fault.
// Tests only: the server never reads answers.
func DecodeResponse(body []byte) (any, error) {
	p := &parser{d: xml.NewDecoder(bytes.NewReader(body))}
	p.d.Strict = true
	if err := p.open("methodResponse"); err != nil {
		return nil, err
	}
	t, err := p.element()
	if err != nil {
		return nil, err
	}
	s, _ := t.(xml.StartElement)
	switch s.Name.Local {
	case "params":
		if err := p.open("param"); err != nil {
			return nil, err
		}
		if err := p.open("value"); err != nil {
			return nil, err
		}
		return p.value(1)
	case "fault":
		if err := p.open("value"); err != nil {
			return nil, err
		}
		v, err := p.value(1)
		if err != nil {
			return nil, err
		}
		m, _ := v.(map[string]any)
		code, ok1 := m["faultCode"].(int64)
		text, ok2 := m["faultString"].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("bad fault %v", v)
		}
		return nil, &Fault{Code: FaultCode(code), Text: text}
	}
	return nil, fmt.Errorf("want <params> or <fault>, got %s", describe(t))
}

// Python's xmlrpc.client reads the exact layout tested in client.py; here
// the encoder's corner cases: int32 clamping, escaping, no nil.
func TestEncodeResponse(t *testing.T) {
	v := []any{int64(1) << 40, -(int64(1) << 40), "a<&>\r\x00\xff", Struct{{"k", true}}, []string(nil), []int{1}}
	b, err := EncodeResponse(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResponse(b)
	want := []any{int64(2147483647), int64(-2147483648), "a<&>\r\ufffd\ufffd", map[string]any{"k": true}, []any{}, []any{int64(1)}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, %v\nwant %#v\n%s", got, err, want, b)
	}
	if _, err := EncodeResponse(nil); err == nil {
		t.Error("nil encoded; it must never be (no <nil/>)")
	}
	if strings.Contains(string(b), "nil") {
		t.Errorf("<nil/> in %s", b)
	}
	_, err = DecodeResponse(EncodeFault(fault(BadName, "foo")))
	if f, ok := err.(*Fault); !ok || f.Code != BadName || f.Text != "BAD_NAME: foo" {
		t.Fatalf("fault round trip: %v", err)
	}
}

func TestUptime(t *testing.T) {
	for secs, want := range map[int]string{0: "0:00:00", 155: "0:02:35", 3599: "0:59:59", 86400 + 7384: "1 day, 2:03:04", 3*86400 + 5: "3 days, 0:00:05", -5: "0:00:00"} {
		if got := Uptime(secs); got != want {
			t.Errorf("Uptime(%d) = %q, want %q", secs, got, want)
		}
	}
}

// Every method's signature names each parameter it accepts: call checks
// the parameters against it.
func TestSignaturesCoverParameters(t *testing.T) {
	for name, m := range New(newFake(t), Options{}).table() {
		if len(m.sig) != m.max+1 || m.min > m.max || !strings.Contains(m.help, "@return") {
			t.Errorf("%s: sig %v for %d..%d parameters, help %q", name, m.sig, m.min, m.max, m.help)
		}
	}
}
