package xmlrpc

import (
	"errors"
	"fmt"
)

// The Backend's errors. Each maps to one of supervisor's fault codes; the
// fault's text is supervisor's "CODE: detail", where detail is the name
// the client gave for name errors, and the error's own text for ErrFailed
// and ErrCantReread.
var (
	ErrShuttingDown        = errors.New("shutting down")               // SHUTDOWN_STATE
	ErrBadName             = errors.New("no such process or group")    // BAD_NAME
	ErrNoFile              = errors.New("no such file")                // NO_FILE
	ErrNotExecutable       = errors.New("not executable")              // NOT_EXECUTABLE
	ErrFailed              = errors.New("failed")                      // FAILED
	ErrAbnormalTermination = errors.New("abnormal termination")        // ABNORMAL_TERMINATION
	ErrSpawn               = errors.New("spawn error")                 // SPAWN_ERROR
	ErrAlreadyStarted      = errors.New("already started")             // ALREADY_STARTED
	ErrNotRunning          = errors.New("not running")                 // NOT_RUNNING
	ErrAlreadyAdded        = errors.New("already added")               // ALREADY_ADDED
	ErrStillRunning        = errors.New("still running")               // STILL_RUNNING
	ErrCantReread          = errors.New("cannot read the config file") // CANT_REREAD
)

// FaultCode is one of supervisor's fault codes (supervisor/xmlrpc.py
// Faults); SUCCESS is the status of a group result that went well.
type FaultCode int

// supervisor's fault codes.
const (
	UnknownMethod        FaultCode = 1
	IncorrectParameters  FaultCode = 2
	BadArguments         FaultCode = 3
	SignatureUnsupported FaultCode = 4
	ShutdownState        FaultCode = 6
	BadName              FaultCode = 10
	BadSignal            FaultCode = 11
	NoFile               FaultCode = 20
	NotExecutable        FaultCode = 21
	Failed               FaultCode = 30
	AbnormalTermination  FaultCode = 40
	SpawnError           FaultCode = 50
	AlreadyStarted       FaultCode = 60
	NotRunning           FaultCode = 70
	Success              FaultCode = 80
	AlreadyAdded         FaultCode = 90
	StillRunning         FaultCode = 91
	CantReread           FaultCode = 92
)

var faultNames = map[FaultCode]string{
	UnknownMethod: "UNKNOWN_METHOD", IncorrectParameters: "INCORRECT_PARAMETERS",
	BadArguments: "BAD_ARGUMENTS", SignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	ShutdownState: "SHUTDOWN_STATE", BadName: "BAD_NAME", BadSignal: "BAD_SIGNAL",
	NoFile: "NO_FILE", NotExecutable: "NOT_EXECUTABLE", Failed: "FAILED",
	AbnormalTermination: "ABNORMAL_TERMINATION", SpawnError: "SPAWN_ERROR",
	AlreadyStarted: "ALREADY_STARTED", NotRunning: "NOT_RUNNING", Success: "SUCCESS",
	AlreadyAdded: "ALREADY_ADDED", StillRunning: "STILL_RUNNING", CantReread: "CANT_REREAD",
}

// String returns supervisor's name of the code ("BAD_NAME"), or UNKNOWN.
func (c FaultCode) String() string {
	if n, ok := faultNames[c]; ok {
		return n
	}
	return "UNKNOWN"
}

// Fault is an XML-RPC fault as supervisor makes it (RPCError): the code
// and "NAME" or "NAME: detail".
type Fault struct {
	Code FaultCode
	Text string
}

func (f *Fault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.Text) }

// fault makes supervisor's RPCError(code, extra): the text is the code's
// name, then ": extra" when there is one.
func fault(code FaultCode, extra ...any) *Fault {
	text := code.String()
	if len(extra) > 0 {
		text += ": " + fmt.Sprint(extra...)
	}
	return &Fault{Code: code, Text: text}
}

// sentinels maps the Backend's errors to fault codes, in the order they
// are tried.
var sentinels = []struct {
	err  error
	code FaultCode
}{
	{ErrShuttingDown, ShutdownState}, {ErrBadName, BadName}, {ErrNoFile, NoFile},
	{ErrNotExecutable, NotExecutable}, {ErrAbnormalTermination, AbnormalTermination},
	{ErrSpawn, SpawnError}, {ErrAlreadyStarted, AlreadyStarted}, {ErrNotRunning, NotRunning},
	{ErrAlreadyAdded, AlreadyAdded}, {ErrStillRunning, StillRunning},
	{ErrCantReread, CantReread}, {ErrFailed, Failed},
}

// faultOf turns a Backend error about name into supervisor's fault: the
// detail is name for the name errors, the error's text for FAILED and
// CANT_REREAD (and any error the Backend did not classify), none for
// SHUTDOWN_STATE.
func faultOf(err error, name string) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	for _, s := range sentinels {
		if !errors.Is(err, s.err) {
			continue
		}
		switch s.code {
		case ShutdownState:
			return fault(s.code)
		case Failed, CantReread:
			return fault(s.code, err.Error())
		}
		if name == "" {
			return fault(s.code)
		}
		return fault(s.code, name)
	}
	return fault(Failed, err.Error())
}
