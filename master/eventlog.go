package master

import (
	"fmt"
	"os"
	"sync"

	"github.com/taskmaster/taskmaster/worker/safepath"
)

// Event is one thing that happened to a process, for the log and the
// shell's event lines.
type Event struct {
	Msg  string
	Pid  int
	Warn bool // worth a WARN line: unexpected exit, backoff, fatal
	Err  bool // an ERROR line: a bug or a broken worker
}

func (e Event) level() string {
	switch {
	case e.Err:
		return "ERROR"
	case e.Warn:
		return "WARN"
	}
	return "INFO"
}

// EventLog writes one line per event: millisecond timestamp, level, the
// process (or "taskmaster") and its pid, the message. It is safe for
// concurrent use; Reopen supports logrotate.
type EventLog struct {
	mu    sync.Mutex // guards f and path
	path  string
	f     *os.File
	clock Clock
}

// OpenEventLog opens (creating, appending) the log at path.
func OpenEventLog(path string, clock Clock) (*EventLog, error) {
	l := &EventLog{path: path, clock: clock}
	return l, l.Reopen()
}

// Reopen closes and reopens the file, e.g. after it was rotated away.
func (l *EventLog) Reopen() error {
	l.mu.Lock()
	path := l.path
	l.mu.Unlock()
	return l.SetPath(path)
}

// SetPath switches the log to path (a reload changed logfile). On error
// the old file stays in use. The file is opened through safepath: a job
// that can write the log's folder must not make root append to a file of
// its choosing (a link swapped in before a SIGUSR2 reopen), nor hang it
// on a FIFO.
func (l *EventLog) SetPath(path string) error {
	f, err := safepath.Open(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640, safepath.Caller)
	if err != nil {
		return fmt.Errorf("open event log %s: %w", path, err)
	}
	l.mu.Lock()
	old := l.f
	l.f, l.path = f, path
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// Write logs ev for name; name "" means the master itself.
func (l *EventLog) Write(name string, ev Event) {
	if name == "" {
		name = "taskmaster"
	}
	pid := ""
	if ev.Pid > 0 {
		pid = fmt.Sprintf(" pid %d", ev.Pid)
	}
	line := fmt.Sprintf("%s %-5s %s%s: %s\n", l.clock.Now().Format("2006-01-02 15:04:05.000"), ev.level(), name, pid, ev.Msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.WriteString(line)
	}
}

// Path returns the log file's path.
func (l *EventLog) Path() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.path
}

// Close closes the file; later writes are dropped.
func (l *EventLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Logf logs a master-level event.
func (l *EventLog) Logf(level string, format string, args ...any) {
	l.Write("", Event{Msg: fmt.Sprintf(format, args...), Warn: level == "WARN", Err: level == "ERROR"})
}
