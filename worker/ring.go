package worker

// ring keeps the last bytes of a stream that goes nowhere else, for tail
// and attach replay. Its buffer is allocated at the first write, so a
// quiet job costs nothing. Not safe for concurrent use: stream guards it.
type ring struct {
	size  int
	buf   []byte
	total int64 // bytes ever written; the stream's offset
	floor int64 // nothing before this offset is kept (clear)
}

func (r *ring) write(p []byte) {
	if r.size <= 0 {
		r.total += int64(len(p))
		r.floor = r.total
		return
	}
	if r.buf == nil {
		r.buf = make([]byte, r.size)
	}
	r.total += int64(len(p))
	if len(p) > r.size {
		p = p[len(p)-r.size:]
	}
	// The byte at offset o lives at o % size.
	start := int((r.total - int64(len(p))) % int64(r.size))
	n := copy(r.buf[start:], p)
	copy(r.buf, p[n:])
}

// read returns up to max bytes from offset off (or from the oldest byte
// kept, if off is older; a negative off counts back from the end), the
// offset of the first byte returned, and the offset after the last byte
// written.
func (r *ring) read(off int64, max int) (data []byte, from, next int64) {
	if off < 0 {
		off += r.total
	}
	oldest := max64(r.floor, r.total-int64(len(r.buf)))
	from = min(max64(off, oldest), r.total)
	n := int(min(r.total-from, int64(max)))
	data = make([]byte, n)
	for i := 0; i < n; {
		pos := int((from + int64(i)) % int64(len(r.buf)))
		i += copy(data[i:], r.buf[pos:min(len(r.buf), pos+n-i)])
	}
	return data, from, r.total
}

// reset forgets what was kept; offsets keep counting.
func (r *ring) reset() { r.buf, r.floor = nil, r.total }

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
