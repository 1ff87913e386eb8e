package worker

import (
	"bytes"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"github.com/taskmaster/taskmaster/ipc"
)

// clientQueue bounds what waits for one attached client. Output that finds
// the queue full is skipped for that client (a terminal slower than a
// flood sees gaps, as with tmux); a client that stops reading altogether
// is dropped when its writer's send times out. Neither slows the job or
// the other clients.
const clientQueue = 64

// terminal is a tty job's side of attach: the current run's pty and the
// clients attached to it. mu guards every field: the pump, the loop and
// each client's reader use it.
type terminal struct {
	mu      sync.Mutex
	ptmx    *os.File // nil between runs
	size    pty.Winsize
	clients []*client
	writers sync.WaitGroup // client writers still running
	stdin   chan []byte    // the master's Input, to writeStdin; nil until used
}

type client struct {
	conn *ipc.Conn
	out  chan ipc.Message // to its writer; closed when dropped
}

func newTerminal() *terminal {
	return &terminal{size: pty.Winsize{Rows: 24, Cols: 80}}
}

// open makes a fresh pty for a run, at the latest client's size. Any user
// may open /dev/ptmx, so this works after the privilege drop, and the
// slave belongs to the job's user.
func (t *terminal) open() (ptmx, tty *os.File, err error) {
	ptmx, tty, err = pty.Open()
	if err != nil {
		return nil, nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	pty.Setsize(ptmx, &t.size)
	t.ptmx = ptmx
	return ptmx, tty, nil
}

// pump copies the job's terminal to its log (and ring) and to every
// attached client until the job and all it left behind have closed the
// pty (EIO), then signals eof.
func (t *terminal) pump(ptmx *os.File, o *output, eof chan<- struct{}) {
	defer func() {
		t.mu.Lock()
		if t.ptmx == ptmx {
			t.ptmx = nil
		}
		t.mu.Unlock()
		ptmx.Close()
		eof <- struct{}{}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := ptmx.Read(buf)
		if n > 0 {
			o.write(buf[:n])
			t.broadcast(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (t *terminal) broadcast(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := &ipc.Output{Data: string(p)}
	for _, c := range t.clients {
		select {
		case c.out <- m:
		default: // behind: this chunk is skipped for c
		}
	}
}

// attach serves a client handed over by the master: greet it, replay up
// to a screen of recent output, then stream. Loop goroutine.
func (t *terminal) attach(conn *ipc.Conn, name string, a *ipc.Attach, recent []byte, jobPid int) {
	rows, cols := a.Rows, a.Cols
	if err := conn.Send(&ipc.Attached{Name: name, DetachKey: a.DetachKey}, time.Second); err != nil {
		conn.Close()
		return
	}
	c := &client{conn: conn, out: make(chan ipc.Message, clientQueue)}
	if len(recent) > 0 {
		c.out <- &ipc.Output{Data: string(lastScreen(recent, int(rows), int(cols)))}
	}
	t.mu.Lock()
	t.clients = append(t.clients, c)
	t.mu.Unlock()
	t.writers.Add(1)
	go func() {
		defer t.writers.Done()
		c.write()
	}()
	go t.read(c)
	t.resize(rows, cols)
	// Full-screen programs redraw on SIGWINCH, even at the same size.
	if jobPid > 0 {
		syscall.Kill(-jobPid, syscall.SIGWINCH)
	}
}

// resize follows the most recent client's window.
func (t *terminal) resize(rows, cols uint16) {
	if rows == 0 || cols == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.size = pty.Winsize{Rows: rows, Cols: cols}
	if t.ptmx != nil {
		pty.Setsize(t.ptmx, &t.size)
	}
}

// read takes a client's keys and window sizes until it hangs up.
// input queues data for the current run's terminal, as if a client typed
// it; the writes happen on one goroutine, in order, so a job that does not
// read its terminal blocks that goroutine, never the worker's loop. Past
// stdinQueue pending writes, data is dropped.
func (t *terminal) input(data []byte) {
	t.mu.Lock()
	if t.stdin == nil {
		t.stdin = make(chan []byte, stdinQueue)
		go t.writeStdin(t.stdin)
	}
	ch := t.stdin
	t.mu.Unlock()
	select {
	case ch <- data:
	default:
	}
}

// stdinQueue bounds the master's pending writes to a terminal.
const stdinQueue = 64

func (t *terminal) writeStdin(ch <-chan []byte) {
	for data := range ch {
		t.mu.Lock()
		ptmx := t.ptmx
		t.mu.Unlock()
		if ptmx != nil {
			ptmx.Write(data)
		}
	}
}

func (t *terminal) read(c *client) {
	defer t.drop(c)
	for {
		m, files, err := c.conn.Recv()
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *ipc.Input:
			t.mu.Lock()
			ptmx := t.ptmx
			t.mu.Unlock()
			if ptmx != nil {
				ptmx.Write(m.Data)
			}
		case *ipc.Resize:
			t.resize(m.Rows, m.Cols)
		default:
			return // a client speaks only Input and Resize
		}
	}
}

func (c *client) write() {
	defer c.conn.Close()
	for m := range c.out {
		if err := c.conn.Send(m, 5*time.Second); err != nil {
			return
		}
		if m.Kind() == ipc.KindJobExited {
			return
		}
	}
}

func (t *terminal) drop(c *client) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropLocked(c)
}

func (t *terminal) dropLocked(c *client) {
	for i, x := range t.clients {
		if x == c {
			t.clients = append(t.clients[:i], t.clients[i+1:]...)
			close(c.out)
			// Unblocks a writer stuck on a client that stopped reading.
			c.conn.Close()
			return
		}
	}
}

// jobExited tells every client and lets them go. Loop goroutine.
func (t *terminal) jobExited(m *ipc.JobExited) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.clients {
		select {
		case c.out <- m:
		default:
		}
		close(c.out)
	}
	t.clients = nil
}

// lastScreen keeps the end of recent that fits rows lines (and at most
// rows*cols*4 bytes: wide runes and escapes are several bytes a cell).
func lastScreen(recent []byte, rows, cols int) []byte {
	if rows <= 0 {
		rows = 24
	}
	if cols <= 0 {
		cols = 80
	}
	if limit := rows * cols * 4; len(recent) > limit {
		recent = recent[len(recent)-limit:]
	}
	end := len(recent)
	for i := 0; i < rows; i++ {
		j := bytes.LastIndexByte(recent[:end], '\n')
		if j < 0 {
			return recent
		}
		end = j
	}
	return recent[end+1:]
}

// flush waits, at most d, for clients to receive what is queued for them
// (the job's exit above all) before the worker exits.
func (t *terminal) flush(d time.Duration) {
	done := make(chan struct{})
	go func() {
		t.writers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}
