package ipc

import "errors"

var (
	ErrEmpty       = errors.New("empty packet")
	ErrTooLarge    = errors.New("packet too large")
	ErrUnknownKind = errors.New("unknown message kind")
	ErrMalformed   = errors.New("malformed packet")
	ErrTruncated   = errors.New("packet truncated")
)
