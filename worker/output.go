package worker

import (
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/ipc"
)

// output is where one of the job's streams goes: its log file, or, when
// the config discards it, a ring kept for tail.
type output struct {
	name string
	file *logFile // nil: discarded
	keep bool     // keep a ring even with a file (a tty job's, for replay)
	mu   sync.Mutex
	ring ring // guarded by mu
}

func (o *output) write(p []byte) {
	if o.file != nil {
		o.file.write(p)
		if !o.keep {
			return
		}
	}
	o.mu.Lock()
	o.ring.write(p)
	o.mu.Unlock()
}

// recent returns everything the ring keeps.
func (o *output) recent() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	data, _, _ := o.ring.read(0, o.ring.size)
	return data
}

// tail answers a Tail (see ipc.Tail): from the log file through the
// worker's own descriptor, or from the ring.
func (o *output) tail(m *ipc.Tail, max int) *ipc.TailData {
	if o.file != nil {
		d := o.file.tail(m.Offset, max, m.File)
		d.Stream = o.name
		return d
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	off := m.Offset
	if off > o.ring.total {
		off = 0 // asked by a reader of an earlier worker
	}
	data, from, next := o.ring.read(off, max)
	return &ipc.TailData{Stream: o.name, Data: data, Offset: from, Next: next}
}

// clear truncates the file, if any, and forgets the ring.
func (o *output) clear() error {
	var err error
	if o.file != nil {
		err = o.file.Clear()
	}
	o.mu.Lock()
	o.ring.reset()
	o.mu.Unlock()
	return err
}

// logNotice sends a log file's problem, or its end, to the master.
func (w *worker) logNotice(msg string, info bool) {
	if w.conn != nil {
		w.conn.Send(&ipc.Notice{Msg: msg, Info: info}, 5*time.Second)
	}
}

// pipeSize is the pipe buffer asked for streams that go to a file: fewer,
// larger splices.
const pipeSize = 1 << 20

// newPipe returns a pipe whose read end is non-blocking (so Go's poller
// waits on it) and whose write end is for the job.
func newPipe(big bool) (r, w *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	if big {
		unix.FcntlInt(uintptr(p[0]), unix.F_SETPIPE_SZ, pipeSize) // best effort
	}
	unix.SetNonblock(p[0], true)
	return os.NewFile(uintptr(p[0]), "stream"), os.NewFile(uintptr(p[1]), "stream"), nil
}

// pump drains one run's pipe into o until EOF, then closes r and signals
// eof. A file sink gets the bytes by splice(2), pipe to page cache, without
// passing through this process.
func (o *output) pump(r *os.File, eof chan<- struct{}) {
	defer func() {
		r.Close()
		eof <- struct{}{}
	}()
	if o.file != nil && o.splice(r) {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			o.write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// splice moves the pipe into the file until EOF (true), or until splice is
// not possible here (false: the caller copies instead).
func (o *output) splice(r *os.File) bool {
	rc, err := r.SyscallConn()
	if err != nil {
		return false
	}
	for {
		var n int64
		var serr error
		err := rc.Read(func(fd uintptr) bool {
			n, serr = o.file.spliceFrom(int(fd), pipeSize)
			return !errors.Is(serr, unix.EAGAIN)
		})
		switch {
		case err != nil:
			return true
		case serr != nil:
			return false
		case n == 0:
			return true
		}
	}
}
