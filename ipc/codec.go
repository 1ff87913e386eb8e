package ipc

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// MaxPacket bounds every packet, in both directions. A Spec carries the
// job's whole environment, so it is generous; a larger one is refused. It
// stays below the default socket buffer so one packet always fits.
const MaxPacket = 64 << 10

// Encode returns the packet for m.
func Encode(m Message) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(byte(m.Kind()))
	enc := msgpack.NewEncoder(&buf)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode %s: %w", m.Kind(), err)
	}
	if buf.Len() > MaxPacket {
		return nil, fmt.Errorf("encode %s: %d bytes: %w", m.Kind(), buf.Len(), ErrTooLarge)
	}
	return buf.Bytes(), nil
}

// Decode parses one packet. It rejects empty, oversized and trailing input,
// unknown kinds and unknown fields.
func Decode(p []byte) (Message, error) {
	if len(p) == 0 {
		return nil, ErrEmpty
	}
	if len(p) > MaxPacket {
		return nil, fmt.Errorf("decode: %d bytes: %w", len(p), ErrTooLarge)
	}
	k := Kind(p[0])
	m := newMessage(k)
	if m == nil {
		return nil, fmt.Errorf("decode: %w %d", ErrUnknownKind, p[0])
	}
	r := bytes.NewReader(p[1:])
	dec := msgpack.NewDecoder(r)
	dec.DisallowUnknownFields(true)
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("decode %s: %d trailing bytes: %w", k, r.Len(), ErrMalformed)
	}
	return m, nil
}
