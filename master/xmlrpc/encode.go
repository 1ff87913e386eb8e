package xmlrpc

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// Struct is an XML-RPC struct whose members keep their order on the wire
// (supervisor's clients do not care, but a stable order is easy to read
// and to test).
type Struct []Member

// Member is one member of a Struct.
type Member struct {
	Name  string
	Value any
}

// EncodeResponse makes a methodResponse holding v, as Python's
// xmlrpc.client.dumps(methodresponse=True) lays it out. v may be bool,
// int, int32, int64 (sent as <int>, clamped to int32 as supervisor's
// capped_int does), float64, string, time.Time, []any, []string, []int,
// Struct or map[string]any (members sorted). No value is ever <nil/>: nil
// is refused, since supervisor's clients cannot read it.
func EncodeResponse(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n")
	if err := encodeValue(&b, v); err != nil {
		return nil, err
	}
	b.WriteString("</param>\n</params>\n</methodResponse>\n")
	return b.Bytes(), nil
}

// EncodeFault makes a methodResponse holding f, as Python's
// xmlrpc.client.dumps(Fault) lays it out.
func EncodeFault(f *Fault) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n")
	encodeValue(&b, f.Struct()) // a Struct of an int and a string cannot fail
	b.WriteString("</fault>\n</methodResponse>\n")
	return b.Bytes()
}

// Struct is the fault as the struct a multicall result holds.
func (f *Fault) Struct() Struct {
	return Struct{{"faultCode", int(f.Code)}, {"faultString", f.Text}}
}

func encodeValue(b *bytes.Buffer, v any) error {
	b.WriteString("<value>")
	switch v := v.(type) {
	case bool:
		if v {
			b.WriteString("<boolean>1</boolean>")
		} else {
			b.WriteString("<boolean>0</boolean>")
		}
	case int:
		writeInt(b, int64(v))
	case int32:
		writeInt(b, int64(v))
	case int64:
		writeInt(b, v)
	case float64:
		b.WriteString("<double>" + strconv.FormatFloat(v, 'g', -1, 64) + "</double>")
	case string:
		b.WriteString("<string>")
		escape(b, v)
		b.WriteString("</string>")
	case time.Time:
		b.WriteString("<dateTime.iso8601>" + v.Format("20060102T15:04:05") + "</dateTime.iso8601>")
	case []any:
		return encodeArray(b, len(v), func(i int) any { return v[i] })
	case []string:
		return encodeArray(b, len(v), func(i int) any { return v[i] })
	case []int:
		return encodeArray(b, len(v), func(i int) any { return v[i] })
	case Struct:
		return encodeStruct(b, v)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s := make(Struct, len(keys))
		for i, k := range keys {
			s[i] = Member{k, v[k]}
		}
		return encodeStruct(b, s)
	default:
		return fmt.Errorf("xml-rpc encode: cannot send %T", v)
	}
	b.WriteString("</value>\n")
	return nil
}

// writeInt clamps to int32, which is all XML-RPC's <int> holds (Python's
// client refuses more, and supervisor clamps the same way: capped_int).
func writeInt(b *bytes.Buffer, n int64) {
	n = max(min(n, math.MaxInt32), math.MinInt32)
	b.WriteString("<int>" + strconv.FormatInt(n, 10) + "</int>")
}

func encodeArray(b *bytes.Buffer, n int, at func(int) any) error {
	b.WriteString("<array><data>\n")
	for i := range n {
		if err := encodeValue(b, at(i)); err != nil {
			return err
		}
	}
	b.WriteString("</data></array></value>\n")
	return nil
}

func encodeStruct(b *bytes.Buffer, s Struct) error {
	b.WriteString("<struct>\n")
	for _, m := range s {
		b.WriteString("<member>\n<name>")
		escape(b, m.Name)
		b.WriteString("</name>\n")
		if err := encodeValue(b, m.Value); err != nil {
			return err
		}
		b.WriteString("</member>\n")
	}
	b.WriteString("</struct></value>\n")
	return nil
}

// escape writes s as XML text. Besides &, < and >, it writes \r as a
// character reference (a parser turns a literal one into \n), and
// replaces what XML 1.0 cannot carry at all (invalid UTF-8, control
// characters but tab and newline, U+FFFE, U+FFFF) by U+FFFD: log data is
// arbitrary bytes, and one ESC from a coloured log would otherwise make
// the whole answer unreadable to expat.
func escape(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#13;")
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0xFFFE, r == 0xFFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
}
