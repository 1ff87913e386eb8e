package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a request, so a hostile one costs little: the body is read
// whole (at most MaxBody bytes), values nest at most MaxDepth deep, and
// the document may not declare anything (no DTD, so no entity expansion).
const (
	MaxBody  = 1 << 20
	MaxDepth = 32
)

// Call is a decoded methodCall. Params hold int64 (int, i4), bool
// (boolean), string (string, base64 as supervisor decodes it, an untyped
// value), float64 (double), time.Time (dateTime.iso8601), []any (array)
// and map[string]any (struct).
type Call struct {
	Method string
	Params []any
}

// errSyntax is a request that is not a well-formed methodCall: HTTP 400,
// as supervisor answers one it cannot unmarshal.
var errSyntax = errors.New("malformed methodCall")

// DecodeCall decodes a methodCall document. Any error wraps errSyntax;
// it never panics, whatever the input (FuzzDecodeCall).
func DecodeCall(body []byte) (*Call, error) {
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%w: body over %d bytes", errSyntax, MaxBody)
	}
	p := &parser{d: xml.NewDecoder(bytes.NewReader(body))}
	p.d.Strict = true
	p.d.CharsetReader = charsetReader
	c, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSyntax, err)
	}
	return c, nil
}

// charsetReader accepts the encodings XML-RPC clients declare besides
// UTF-8 (which encoding/xml reads itself): US-ASCII and ISO-8859-1.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		var out []byte
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("encoding %q not supported", label)
}

type parser struct {
	d *xml.Decoder
}

// next returns the next start, end or character-data token, skipping
// comments and processing instructions; a directive (<!DOCTYPE, <!ENTITY)
// is refused, so nothing can be declared or expanded.
func (p *parser) next() (xml.Token, error) {
	for {
		t, err := p.d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := t.(type) {
		case xml.Directive:
			return nil, errors.New("declarations (<!...>) are not allowed")
		case xml.Comment, xml.ProcInst:
			continue
		case xml.CharData:
			return t, nil
		default:
			return t, nil
		}
	}
}

// element returns the next start or end tag; character data between tags
// must be white space.
func (p *parser) element() (xml.Token, error) {
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if cd, ok := t.(xml.CharData); ok {
			if len(bytes.TrimSpace(cd)) != 0 {
				return nil, fmt.Errorf("unexpected text %.20q", cd)
			}
			continue
		}
		return t, nil
	}
}

// open expects <name>.
func (p *parser) open(name string) error { return p.expect(name, false) }

// close expects </name>, after white space only.
func (p *parser) close(name string) error { return p.expect(name, true) }

func (p *parser) expect(name string, end bool) error {
	t, err := p.element()
	if err != nil {
		return err
	}
	var got string
	switch t := t.(type) {
	case xml.StartElement:
		got = "<" + t.Name.Local + ">"
	case xml.EndElement:
		got = "</" + t.Name.Local + ">"
	}
	want := "<" + name + ">"
	if end {
		want = "</" + name + ">"
	}
	if got != want {
		return fmt.Errorf("want %s, got %s", want, describe(t))
	}
	return nil
}

func describe(t xml.Token) string {
	switch t := t.(type) {
	case xml.StartElement:
		return "<" + t.Name.Local + ">"
	case xml.EndElement:
		return "</" + t.Name.Local + ">"
	}
	return "text"
}

// text reads character data up to the end tag of the element just opened;
// no element may be inside.
func (p *parser) text() (string, error) {
	var b strings.Builder
	for {
		t, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		default:
			return "", fmt.Errorf("unexpected %s in text", describe(t))
		}
	}
}

// call reads methodCall: methodName, then params (absent means none).
func (p *parser) call() (*Call, error) {
	if err := p.open("methodCall"); err != nil {
		return nil, err
	}
	if err := p.open("methodName"); err != nil {
		return nil, err
	}
	name, err := p.text()
	if err != nil {
		return nil, err
	}
	c := &Call{Method: strings.TrimSpace(name), Params: []any{}}
	if c.Method == "" {
		return nil, errors.New("empty methodName")
	}
	t, err := p.element()
	if err != nil {
		return nil, err
	}
	if s, ok := t.(xml.StartElement); ok && s.Name.Local == "params" {
		if c.Params, err = p.params(); err != nil {
			return nil, err
		}
		t, err = p.element()
		if err != nil {
			return nil, err
		}
	}
	if e, ok := t.(xml.EndElement); !ok || e.Name.Local != "methodCall" {
		return nil, fmt.Errorf("want </methodCall>, got %s", describe(t))
	}
	// Nothing but white space, comments and processing instructions may
	// follow the document element.
	for {
		t, err := p.d.Token()
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("text after </methodCall>")
			}
		default:
			return nil, errors.New("content after </methodCall>")
		}
	}
}

// params reads param* up to </params>.
func (p *parser) params() ([]any, error) {
	out := []any{}
	err := p.children("param", func() error {
		if err := p.open("value"); err != nil {
			return err
		}
		v, err := p.value(1)
		if err != nil {
			return err
		}
		out = append(out, v)
		return p.close("param")
	})
	return out, err
}

// children reads elements named tag up to the end tag of the element
// just opened (the decoder checks that the end tag matches), each read
// by each after its start tag.
func (p *parser) children(tag string, each func() error) error {
	for {
		t, err := p.element()
		if err != nil {
			return err
		}
		if _, ok := t.(xml.EndElement); ok {
			return nil
		}
		if t.(xml.StartElement).Name.Local != tag {
			return fmt.Errorf("want <%s>, got %s", tag, describe(t))
		}
		if err := each(); err != nil {
			return err
		}
	}
}

// value reads what follows <value> up to </value>: text alone is a
// string; otherwise one typed element, with white space around it.
func (p *parser) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("values nested deeper than %d", MaxDepth)
	}
	var text strings.Builder
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			return text.String(), nil
		case xml.StartElement:
			if strings.TrimSpace(text.String()) != "" {
				return nil, errors.New("text beside a typed value")
			}
			v, err := p.typed(t.Name.Local, depth)
			if err != nil {
				return nil, err
			}
			return v, p.close("value")
		}
	}
}

// typed reads one typed value whose start tag was just read.
func (p *parser) typed(kind string, depth int) (any, error) {
	switch kind {
	case "array":
		return p.array(depth)
	case "struct":
		return p.strct(depth)
	}
	s, err := p.text()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "string":
		return s, nil
	case "int", "i4":
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	case "boolean":
		switch strings.TrimSpace(s) {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
		return nil, fmt.Errorf("boolean %.20q", s)
	case "double":
		return strconv.ParseFloat(strings.TrimSpace(s), 64)
	case "dateTime.iso8601":
		return time.Parse("20060102T15:04:05", strings.TrimSpace(s))
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		return string(b), err // supervisor hands base64 to methods as a string
	}
	return nil, fmt.Errorf("unknown type <%.30s>", kind)
}

// array reads <data> value* </data> </array>.
func (p *parser) array(depth int) (any, error) {
	if err := p.open("data"); err != nil {
		return nil, err
	}
	out := []any{}
	err := p.children("value", func() error {
		v, err := p.value(depth + 1)
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, p.close("array")
}

// strct reads member* </struct>; each member is <name> then <value>.
func (p *parser) strct(depth int) (any, error) {
	out := map[string]any{}
	err := p.children("member", func() error {
		if err := p.open("name"); err != nil {
			return err
		}
		name, err := p.text()
		if err != nil {
			return err
		}
		if err := p.open("value"); err != nil {
			return err
		}
		if out[name], err = p.value(depth + 1); err != nil {
			return err
		}
		return p.close("member")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
