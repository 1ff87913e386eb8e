package ipc

import "fmt"

// Kind identifies a message type on the wire. Values are part of the
// protocol: append, never renumber.
type Kind uint8

const (
	KindSpec Kind = iota + 1
	KindReady
	KindStart
	KindStarted
	KindSpawnError
	KindStop
	KindSignal
	KindExited
	KindStatus
	KindQuit
	KindFailed
	KindRequest
	KindOutput
	KindDone
	KindTail
	KindTailData
	KindClear
	KindReopen
	KindNotice
	KindAttach
	KindAttached
	KindInput
	KindResize
	KindJobExited
	KindCleared
)

var kindNames = [...]string{
	KindSpec: "Spec", KindReady: "Ready", KindStart: "Start",
	KindStarted: "Started", KindSpawnError: "SpawnError", KindStop: "Stop",
	KindSignal: "Signal", KindExited: "Exited", KindStatus: "Status",
	KindQuit: "Quit", KindFailed: "Failed", KindRequest: "Request",
	KindOutput: "Output", KindDone: "Done", KindTail: "Tail",
	KindTailData: "TailData", KindClear: "Clear", KindReopen: "Reopen",
	KindNotice: "Notice", KindAttach: "Attach", KindAttached: "Attached",
	KindInput: "Input", KindResize: "Resize", KindJobExited: "JobExited",
	KindCleared: "Cleared",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Message is implemented by every message struct.
type Message interface{ Kind() Kind }

// Spec is everything a worker needs to run its job. It is the only channel
// for job settings: the worker's argv and environment carry none.
type Spec struct {
	Name       string   `msgpack:"name"`
	Argv       []string `msgpack:"argv"`
	Env        []string `msgpack:"env"`    // KEY=VALUE: the master's environment
	JobEnv     []string `msgpack:"jobenv"` // KEY=VALUE: the config's env, applied last
	Dir        string   `msgpack:"dir"`    // "": inherit
	Umask      int      `msgpack:"umask"`  // -1: inherit
	UID        int      `msgpack:"uid"`    // -1: do not change user
	GID        int      `msgpack:"gid"`    // -1: do not change group
	NoNewPrivs bool     `msgpack:"nonewprivs"`
	Stdout     string   `msgpack:"stdout"` // "": discard (kept in a ring)
	Stderr     string   `msgpack:"stderr"`
	// Rotation: 0 bytes never rotates.
	StdoutMaxBytes int64 `msgpack:"stdout_maxbytes"`
	StdoutBackups  int   `msgpack:"stdout_backups"`
	StderrMaxBytes int64 `msgpack:"stderr_maxbytes"`
	StderrBackups  int   `msgpack:"stderr_backups"`
	// SharedLogs: other processes write the same files (numprocs > 1).
	SharedLogs bool `msgpack:"shared_logs"`
	RingBytes  int  `msgpack:"ring_bytes"` // kept output per discarded stream
	// TTY runs the job on a pty: one output stream, attachable.
	TTY        bool  `msgpack:"tty"`
	StopSignal int   `msgpack:"stopsignal"` // used when the master is gone
	StopTimeMs int64 `msgpack:"stoptime_ms"`
	// StateDir is RUNDIR/workers, where the worker keeps NAME.json; "":
	// no state file.
	StateDir string `msgpack:"statedir"`
	// ClearEnv: Env is a clean base the master chose (clearenv), not its
	// own environment; the worker adds the job's account (HOME, USER,
	// LOGNAME, SHELL) even when the user does not change.
	ClearEnv bool `msgpack:"clearenv"`
	// Generation orders the writers of one state file: a worker never
	// replaces a file of a higher generation (a newer worker's, or the
	// master's own record). It grows with every worker a master spawns
	// and from one master to the next.
	Generation int64 `msgpack:"generation"`
}

// Ready says the worker finished its set-up, including the privilege drop.
type Ready struct {
	UID int `msgpack:"uid"`
	GID int `msgpack:"gid"`
}

// Start asks the worker to fork/exec the job.
type Start struct{}

// Started reports the job's pid once it has exec'd.
type Started struct {
	Pid    int   `msgpack:"pid"`
	UnixMs int64 `msgpack:"unix_ms"`
}

// SpawnError reports a Start that produced no process.
type SpawnError struct {
	Reason string `msgpack:"reason"`
}

// Stop asks the worker to send Signal to the job's process group and
// SIGKILL it after TimeoutMs.
type Stop struct {
	Signal    int   `msgpack:"signal"`
	TimeoutMs int64 `msgpack:"timeout_ms"`
}

// Signal asks the worker to send a signal to the job's process group.
type Signal struct {
	Signal int `msgpack:"signal"`
}

// Exited reports the job's end. Code is -1 when it died of Signal.
// Killed is set when the worker sent SIGKILL after the stop timeout.
type Exited struct {
	Pid    int  `msgpack:"pid"`
	Code   int  `msgpack:"code"`
	Signal int  `msgpack:"signal"`
	Killed bool `msgpack:"killed"`
}

// Tail asks for at most Max bytes of a stream's output from Offset
// (negative: that many bytes before the end). A stream with a log file is
// read by the worker through the descriptor it writes, never by path:
// Offset is a position in that file, and File the file the asker read last
// (0: any); a different file (rotated, reopened), or one shorter than
// Offset (cleared), is read from its start. A discarded stream is read
// from its kept output: Offset counts bytes since the worker started, and
// an Offset past the end (a new worker) reads from the oldest byte kept.
type Tail struct {
	Stream string `msgpack:"stream"` // "stdout" or "stderr"
	Offset int64  `msgpack:"offset"`
	Max    int    `msgpack:"max"`
	File   uint64 `msgpack:"file"`
}

// TailData answers a Tail: Data starts at Offset (later than asked when
// older bytes were overwritten); Next is the end of what was written.
// File identifies the log file read (its inode), 0 for kept output.
type TailData struct {
	Stream string `msgpack:"stream"`
	Data   []byte `msgpack:"data"`
	Offset int64  `msgpack:"offset"`
	Next   int64  `msgpack:"next"`
	File   uint64 `msgpack:"file"`
}

// Clear empties the job's log files, through the descriptors the worker
// writes, and its kept output. The worker answers with one Cleared.
type Clear struct{}

// Cleared answers a Clear; Error says what could not be truncated.
type Cleared struct {
	Error string `msgpack:"error"`
}

// Reopen reopens the job's log files (after logrotate moved them).
type Reopen struct{}

// Notice is a problem the worker met while running (a log it could not
// write, rotate or reopen), for the master's event log; Info marks the end
// of one (writes work again).
type Notice struct {
	Msg  string `msgpack:"msg"`
	Info bool   `msgpack:"info"`
}

// Status is the master's view of the slot, recorded in the state file.
type Status struct {
	Name     string `msgpack:"name"` // changes when numprocs goes 1 <-> N
	State    string `msgpack:"state"`
	Restarts int    `msgpack:"restarts"`
	Error    string `msgpack:"error"`
}

// Quit asks the worker to stop its job, if any, and exit.
type Quit struct{}

// Failed reports a set-up failure; the worker exits after sending it.
type Failed struct {
	Reason string `msgpack:"reason"`
}

// Request is a ctl command line, already split into words. Attach says
// the client has a terminal to lend: `attach NAME` then hands the
// connection to the job's worker. Without it attach answers like any
// command, with an error line. Rows and Cols are the client's terminal
// size, for attach.
type Request struct {
	Args   []string `msgpack:"args"`
	Attach bool     `msgpack:"attach"`
	Rows   uint16   `msgpack:"rows"`
	Cols   uint16   `msgpack:"cols"`
}

// Attach hands a client's connection (the one descriptor attached) to the
// worker of a tty job, which then serves it directly.
type Attach struct {
	Rows      uint16 `msgpack:"rows"`
	Cols      uint16 `msgpack:"cols"`
	DetachKey []byte `msgpack:"detachkey"`
}

// Attached is the worker's first word to an attached client, with the
// key sequence that detaches (the config's detachkey).
type Attached struct {
	Name      string `msgpack:"name"`
	DetachKey []byte `msgpack:"detachkey"`
}

// Input is what an attached client typed, for the job's terminal; from
// the master to a worker, data for a tty job's terminal (sendProcessStdin).
type Input struct {
	Data []byte `msgpack:"data"`
}

// Resize is an attached client's new window size.
type Resize struct {
	Rows uint16 `msgpack:"rows"`
	Cols uint16 `msgpack:"cols"`
}

// JobExited tells attached clients the job ended (Code -1: by Signal).
type JobExited struct {
	Name   string `msgpack:"name"`
	Code   int    `msgpack:"code"`
	Signal int    `msgpack:"signal"`
}

// Output is a piece of a command's output.
type Output struct {
	Data string `msgpack:"data"`
}

// Done ends a command's answer. Code is the process exit code for ctl.
type Done struct {
	Code int `msgpack:"code"`
}

func (*Spec) Kind() Kind       { return KindSpec }
func (*Ready) Kind() Kind      { return KindReady }
func (*Start) Kind() Kind      { return KindStart }
func (*Started) Kind() Kind    { return KindStarted }
func (*SpawnError) Kind() Kind { return KindSpawnError }
func (*Stop) Kind() Kind       { return KindStop }
func (*Signal) Kind() Kind     { return KindSignal }
func (*Exited) Kind() Kind     { return KindExited }
func (*Status) Kind() Kind     { return KindStatus }
func (*Quit) Kind() Kind       { return KindQuit }
func (*Failed) Kind() Kind     { return KindFailed }
func (*Request) Kind() Kind    { return KindRequest }
func (*Output) Kind() Kind     { return KindOutput }
func (*Done) Kind() Kind       { return KindDone }
func (*Tail) Kind() Kind       { return KindTail }
func (*TailData) Kind() Kind   { return KindTailData }
func (*Clear) Kind() Kind      { return KindClear }
func (*Reopen) Kind() Kind     { return KindReopen }
func (*Notice) Kind() Kind     { return KindNotice }
func (*Attach) Kind() Kind     { return KindAttach }
func (*Attached) Kind() Kind   { return KindAttached }
func (*Input) Kind() Kind      { return KindInput }
func (*Resize) Kind() Kind     { return KindResize }
func (*JobExited) Kind() Kind  { return KindJobExited }
func (*Cleared) Kind() Kind    { return KindCleared }

// newMessage returns a zero message of kind k, or nil for an unknown kind.
func newMessage(k Kind) Message {
	switch k {
	case KindSpec:
		return new(Spec)
	case KindReady:
		return new(Ready)
	case KindStart:
		return new(Start)
	case KindStarted:
		return new(Started)
	case KindSpawnError:
		return new(SpawnError)
	case KindStop:
		return new(Stop)
	case KindSignal:
		return new(Signal)
	case KindExited:
		return new(Exited)
	case KindStatus:
		return new(Status)
	case KindQuit:
		return new(Quit)
	case KindFailed:
		return new(Failed)
	case KindRequest:
		return new(Request)
	case KindOutput:
		return new(Output)
	case KindDone:
		return new(Done)
	case KindTail:
		return new(Tail)
	case KindTailData:
		return new(TailData)
	case KindClear:
		return new(Clear)
	case KindReopen:
		return new(Reopen)
	case KindNotice:
		return new(Notice)
	case KindAttach:
		return new(Attach)
	case KindAttached:
		return new(Attached)
	case KindInput:
		return new(Input)
	case KindResize:
		return new(Resize)
	case KindJobExited:
		return new(JobExited)
	case KindCleared:
		return new(Cleared)
	}
	return nil
}
