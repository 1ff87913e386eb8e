package xmlrpc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// MaxRead bounds what one readLog/readProcess*Log answer holds. supervisor
// reads to the end of the file whatever its size; a root daemon building a
// gigabyte-long XML answer for anyone allowed to ask is worse than a
// client asking again from the new offset.
const MaxRead = 16 << 20

// readFile is supervisor's options.readFile on an open log: a negative
// offset with length 0 is the last -offset bytes; a negative offset with
// a length, or a negative length, is BAD_ARGUMENTS; length 0 reads to the
// end; an I/O error is FAILED.
func readFile(f *os.File, offset, length int64) (string, error) {
	if (offset < 0 && length != 0) || length < 0 {
		return "", fault(BadArguments)
	}
	st, err := f.Stat()
	if err != nil {
		return "", fault(Failed)
	}
	var from, n int64
	switch {
	case offset < 0: // the last -offset bytes (-offset may overflow: not used)
		from = max(st.Size()+offset, 0)
		n = st.Size() - from
	case length == 0:
		from, n = offset, MaxRead
	default:
		from, n = offset, length
	}
	// No more than the file holds: a short log costs its size, not MaxRead.
	b := make([]byte, min(n, MaxRead, max(st.Size()-from, 0)))
	got, err := f.ReadAt(b, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fault(Failed)
	}
	return string(b[:got]), nil
}

// tailFile is supervisor's options.tailFile, rule for rule: when the file
// has grown past offset+length, overflow is set and the last length bytes
// are sent; the offset answered is always the file's size.
func tailFile(f *os.File, offset, length int64) []any {
	st, err := f.Stat()
	if err != nil {
		return []any{"", offset, false}
	}
	sz := st.Size()
	overflow := false
	if sz > offset+length {
		overflow = true
		offset = sz - 1
	}
	if offset+length > sz {
		if offset > sz-1 {
			length = 0
		}
		offset = sz - length
	}
	offset, length = max(offset, 0), max(length, 0)
	data := ""
	if length > 0 {
		b := make([]byte, min(length, MaxRead))
		n, err := f.ReadAt(b, offset)
		if err != nil && !errors.Is(err, io.EOF) {
			return []any{"", sz, false}
		}
		data = string(b[:n])
	}
	return []any{data, sz, overflow}
}

func (s *Server) readLog(_ context.Context, a *args) (any, error) {
	offset, length := a.int(0), a.int(1)
	f, err := s.b.OpenLog("", LogMain)
	if err != nil {
		return nil, faultOf(err, "")
	}
	defer f.Close()
	return readFile(f, offset, length)
}

func (s *Server) clearLog(context.Context, *args) (any, error) {
	if err := s.b.ClearLogs(""); err != nil {
		return nil, faultOf(err, "")
	}
	return true, nil
}

// processLog opens a process's log after supervisor's name checks.
func (s *Server) processLog(name string, log Log) (*os.File, error) {
	p, err := s.process(name)
	if err != nil {
		return nil, err
	}
	f, err := s.b.OpenLog(p.Namespec(), log)
	if err != nil {
		return nil, faultOf(err, name)
	}
	return f, nil
}

func (s *Server) readProcessLog(log Log) func(context.Context, *args) (any, error) {
	return func(_ context.Context, a *args) (any, error) {
		name, offset, length := a.str(0), a.int(1), a.int(2)
		f, err := s.processLog(name, log)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readFile(f, offset, length)
	}
}

// tailProcessLog: a log that does not exist (yet) is [”, 0, False], not
// a fault, as supervisor's.
func (s *Server) tailProcessLog(log Log) func(context.Context, *args) (any, error) {
	return func(_ context.Context, a *args) (any, error) {
		name, offset, length := a.str(0), a.int(1), a.int(2)
		f, err := s.processLog(name, log)
		var fl *Fault
		if errors.As(err, &fl) && fl.Code == NoFile {
			return []any{"", 0, false}, nil
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return tailFile(f, offset, length), nil
	}
}

// Log streaming (supervisor's http.py tail_f_producer).
const (
	tailHead   = 1024                   // bytes replayed before following
	tailPoll   = 100 * time.Millisecond // how often the size is looked at
	tailReopen = time.Second            // how often rotation is looked for
)

// logtail serves GET /logtail/NAME[/CHANNEL] and GET /mainlogtail: 404
// for an unknown process, channel or a log that does not exist, else a
// chunked text/plain body: the last 1024 bytes, then what is appended,
// "==> File truncated <==" when the file shrinks, the new file from its
// start after a rotation. It ends when the client leaves or Close.
func (s *Server) logtail(w http.ResponseWriter, r *http.Request) {
	open := func() (*os.File, error) { return s.b.OpenLog("", LogMain) }
	if rest, ok := strings.CutPrefix(r.URL.Path, "/logtail/"); ok {
		name, channel, _ := strings.Cut(rest, "/")
		log := LogStdout
		switch channel {
		case "", "stdout":
		case "stderr":
			log = LogStderr
		default:
			http.NotFound(w, r)
			return
		}
		p, err := lookup(s.b.Processes(), name)
		if err != nil || p == nil {
			http.NotFound(w, r)
			return
		}
		spec := p.Namespec()
		open = func() (*os.File, error) { return s.b.OpenLog(spec, log) }
	}
	f, err := open()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer func() { f.Close() }()
	st, err := f.Stat()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain;charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Last-Modified", st.ModTime().UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	t := &follower{w: w, f: f, pos: max(st.Size()-tailHead, 0)}
	t.run(r.Context(), open)
	f = t.f
}

// follower streams one log file as it grows.
type follower struct {
	w   http.ResponseWriter
	f   *os.File
	pos int64
	buf []byte // for send, made once
}

func (t *follower) run(ctx context.Context, open func() (*os.File, error)) {
	poll := time.NewTicker(tailPoll)
	defer poll.Stop()
	lastReopen := time.Now()
	for {
		if !t.send() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
		if time.Since(lastReopen) >= tailReopen {
			lastReopen = time.Now()
			t.follow(open)
		}
	}
}

// send writes what was appended since pos; false when the client is gone.
func (t *follower) send() bool {
	st, err := t.f.Stat()
	if err != nil {
		return true
	}
	if st.Size() < t.pos {
		t.pos = 0
		return t.write([]byte("==> File truncated <==\n"))
	}
	if t.buf == nil {
		t.buf = make([]byte, 32<<10)
	}
	for t.pos < st.Size() {
		n, err := t.f.ReadAt(t.buf[:min(int64(len(t.buf)), st.Size()-t.pos)], t.pos)
		if n > 0 && !t.write(t.buf[:n]) {
			return false
		}
		t.pos += int64(n)
		if err != nil {
			break
		}
	}
	return true
}

func (t *follower) write(b []byte) bool {
	if _, err := t.w.Write(b); err != nil {
		return false
	}
	if fl, ok := t.w.(http.Flusher); ok {
		fl.Flush()
	}
	return true
}

// follow reopens the log; when it is another file now (rotated), the new
// one is followed from its start.
func (t *follower) follow(open func() (*os.File, error)) {
	nf, err := open()
	if err != nil {
		return
	}
	a, errA := t.f.Stat()
	b, errB := nf.Stat()
	if errA == nil && errB == nil && !os.SameFile(a, b) {
		t.send() // what the old file got before its rotation
		t.f.Close()
		t.f, t.pos = nf, 0
		return
	}
	nf.Close()
}
