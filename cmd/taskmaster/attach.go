package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/taskmaster/taskmaster/ipc"
)

// doubleTap is how long after the detach key a second one may follow to
// send the key itself to the job instead of detaching.
const doubleTap = 250 * time.Millisecond

// winsize returns the terminal's size, 0 when unknown.
func winsize(f *os.File) (rows, cols uint16) {
	c, r, err := term.GetSize(int(f.Fd()))
	if err != nil || r <= 0 || c <= 0 {
		return 0, 0
	}
	return uint16(r), uint16(c)
}

// attachSession runs an attached terminal over conn (already handed to the
// worker) until the user detaches or the job exits. The terminal must be
// raw. It returns the line to print afterwards, or an error (no such
// process, not a tty program) as the master or worker put it.
func attachSession(conn *ipc.Conn, in *os.File, out io.Writer) (string, error) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, _, err := conn.Recv()
	conn.SetReadDeadline(time.Time{})
	if err != nil {
		return "", fmt.Errorf("attach: %w", err)
	}
	hello, ok := m.(*ipc.Attached)
	if !ok {
		return "", errors.New(refusal(m, conn))
	}
	key := hello.DetachKey
	if len(key) == 0 {
		key = []byte{0x1d}
	}
	fmt.Fprintf(out, "[attached to %s: detach with %s]\r\n", hello.Name, keyName(key))

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	ended := make(chan string, 1)
	go func() {
		ended <- relay(conn, out)
	}()
	var wake [2]int
	if err := unix.Pipe2(wake[:], unix.O_CLOEXEC); err != nil {
		return "", err
	}
	defer unix.Close(wake[0])
	defer unix.Close(wake[1])
	detached := make(chan struct{})
	go func() {
		readKeys(int(in.Fd()), wake[0], key, func(p []byte) { conn.Send(&ipc.Input{Data: p}, time.Second) })
		close(detached)
	}()
	for {
		select {
		case <-winch:
			rows, cols := winsize(in)
			conn.Send(&ipc.Resize{Rows: rows, Cols: cols}, time.Second)
		case <-detached:
			conn.Close()
			<-ended
			return fmt.Sprintf("[detached from %s]", hello.Name), nil
		case msg := <-ended:
			unix.Write(wake[1], []byte{0})
			<-detached
			return msg, nil
		}
	}
}

// refusal turns an error answer (Output then Done) into its text.
func refusal(m ipc.Message, conn *ipc.Conn) string {
	text := ""
	for m != nil {
		switch m := m.(type) {
		case *ipc.Output:
			text += m.Data
		case *ipc.Done:
			return trimNL(text)
		}
		var err error
		if m, _, err = conn.Recv(); err != nil {
			break
		}
	}
	return trimNL(text)
}

func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}

// relay copies the job's terminal to out until the worker hangs up, and
// returns what to print then.
func relay(conn *ipc.Conn, out io.Writer) string {
	for {
		m, files, err := conn.Recv()
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			return "[connection closed]"
		}
		switch m := m.(type) {
		case *ipc.Output:
			io.WriteString(out, m.Data)
		case *ipc.JobExited:
			if m.Code < 0 {
				return fmt.Sprintf("[%s exited on signal %s]", m.Name, unix.SignalName(syscall.Signal(m.Signal)))
			}
			return fmt.Sprintf("[%s exited with code %d]", m.Name, m.Code)
		}
	}
}

// readKeys reads the terminal and sends what the user types, until the
// detach key, or until wake becomes readable. The detach key typed twice
// in a row sends it once; a key sequence's partial match is held back
// until it is known not to be the sequence.
func readKeys(fd, wake int, key []byte, send func([]byte)) {
	d := detacher{key: key}
	buf := make([]byte, 4096)
	var deadline time.Time // while a detach is pending
	for {
		timeout := -1
		if d.pending {
			if deadline.IsZero() {
				deadline = time.Now().Add(doubleTap)
			}
			timeout = max(0, int(time.Until(deadline)/time.Millisecond))
		} else {
			deadline = time.Time{}
		}
		fds := []unix.PollFd{{Fd: int32(wake), Events: unix.POLLIN}, {Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil || fds[0].Revents != 0 {
			return
		}
		if n == 0 || fds[1].Revents&unix.POLLIN == 0 {
			if d.pending && !time.Now().Before(deadline) {
				return // no second detach key: detach
			}
			continue
		}
		r, _ := unix.Read(fd, buf)
		if r <= 0 {
			return
		}
		fwd, detach := d.feed(buf[:r])
		if len(fwd) > 0 {
			send(fwd)
		}
		if detach {
			return
		}
	}
}

// detacher finds the detach key in typed input.
type detacher struct {
	key     []byte
	matched int  // bytes of key seen and held back
	pending bool // a whole key was typed: detach unless another follows
	again   int  // bytes of the second key seen
}

// feed returns the bytes to send to the job and whether to detach now.
func (d *detacher) feed(p []byte) (fwd []byte, detach bool) {
	for _, b := range p {
		if d.pending {
			if b == d.key[d.again] {
				d.again++
				if d.again == len(d.key) {
					fwd = append(fwd, d.key...) // typed twice: once to the job
					d.pending, d.again = false, 0
				}
				continue
			}
			return fwd, true
		}
		if b == d.key[d.matched] {
			d.matched++
			if d.matched == len(d.key) {
				d.pending, d.matched = true, 0
			}
			continue
		}
		fwd = append(fwd, d.key[:d.matched]...)
		d.matched = 0
		if b == d.key[0] {
			d.matched = 1
			continue
		}
		fwd = append(fwd, b)
	}
	return fwd, false
}

// keyName spells a key sequence as the config does: ^], ^P^Q.
func keyName(key []byte) string {
	s := ""
	for _, b := range key {
		if b < 0x20 {
			s += "^" + string(rune(b+'@'))
		} else {
			s += string(rune(b))
		}
	}
	return s
}
