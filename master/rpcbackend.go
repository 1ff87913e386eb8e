package master

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master/xmlrpc"
	"github.com/taskmaster/taskmaster/worker/safepath"
)

// rpcBackend is the Supervisor as supervisor's XML-RPC API sees it
// (xmlrpc.Backend): a program is a group, its processes the group's
// processes. It only translates: every operation is the typed API's.
type rpcBackend struct{ s *Supervisor }

// XMLRPCBackend returns the Supervisor as an xmlrpc.Backend.
func (s *Supervisor) XMLRPCBackend() xmlrpc.Backend { return rpcBackend{s} }

func (b rpcBackend) PID() int { return os.Getpid() }

func (b rpcBackend) State() xmlrpc.ServerState {
	state := xmlrpc.StateShutdown
	b.s.do(func() {
		if b.s.shutdown == nil {
			state = xmlrpc.StateServing
		}
	})
	return state
}

func (b rpcBackend) Processes() []xmlrpc.Process {
	infos, _ := b.s.Status(nil)
	out := make([]xmlrpc.Process, 0, len(infos))
	for _, i := range infos {
		out = append(out, xmlrpc.Process{
			Name: processPart(i.Name), Group: i.Group, State: rpcState(i.Code),
			Start: i.Start, Stop: i.Stop, PID: i.Pid, ExitStatus: i.ExitStatus,
			SpawnErr: i.SpawnErr, StdoutLog: i.Stdout, StderrLog: i.Stderr,
		})
	}
	return out
}

// processPart is the process's name within its group: "web_00" of
// "web:web_00", "web" of "web".
func processPart(name string) string {
	return name[strings.LastIndexByte(name, ':')+1:]
}

// rpcState numbers a state as supervisor does.
func rpcState(st State) xmlrpc.ProcessState {
	switch st {
	case Stopped:
		return xmlrpc.StateStopped
	case Starting:
		return xmlrpc.StateStarting
	case Running:
		return xmlrpc.StateRunning
	case Backoff:
		return xmlrpc.StateBackoff
	case Stopping:
		return xmlrpc.StateStopping
	case Exited:
		return xmlrpc.StateExited
	case Fatal:
		return xmlrpc.StateFatal
	}
	return xmlrpc.StateUnknown
}

// one runs an operation on one process and returns its error, typed for
// the XML-RPC server.
func one(results []Result, err error) error {
	if err != nil {
		return rpcErr(err)
	}
	for _, r := range results {
		if r.Err != nil {
			return rpcErr(r.Err)
		}
	}
	return nil
}

func (b rpcBackend) Start(name string) error {
	return one(b.s.Start(context.Background(), []string{name}, false))
}

func (b rpcBackend) Stop(name string) error {
	return one(b.s.Stop(context.Background(), []string{name}, false))
}

func (b rpcBackend) Signal(name string, sig syscall.Signal) error {
	return one(b.s.Signal(sig, []string{name}))
}

// WriteStdin writes to a tty job's terminal; any other job's stdin is
// /dev/null: NO_FILE, as supervisor answers for a closed stdin.
func (b rpcBackend) WriteStdin(name string, data []byte) error {
	return rpcErr(b.s.WriteStdin(name, data))
}

func (b rpcBackend) OpenLog(name string, log xmlrpc.Log) (*os.File, error) {
	if log == xmlrpc.LogMain {
		f, err := safepath.Open(b.s.MainLogPath(), os.O_RDONLY, 0, safepath.Caller)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", xmlrpc.ErrNoFile, err)
		}
		return f, nil
	}
	stream := Stdout
	if log == xmlrpc.LogStderr {
		stream = Stderr
	}
	_, path, owner, err := b.s.logOf(name, stream)
	if err != nil {
		return nil, rpcErr(err)
	}
	if path == "" {
		return nil, fmt.Errorf("%w: %s's log is not a file", xmlrpc.ErrNoFile, name)
	}
	f, err := safepath.Open(path, os.O_RDONLY, 0, owner)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", xmlrpc.ErrNoFile, err)
	}
	return f, nil
}

func (b rpcBackend) ClearLogs(name string) error {
	if name == "" {
		f, err := safepath.Open(b.s.MainLogPath(), os.O_WRONLY, 0, safepath.Caller)
		if err != nil {
			return fmt.Errorf("%w: %v", xmlrpc.ErrNoFile, err)
		}
		defer f.Close()
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("%w: %v", xmlrpc.ErrFailed, err)
		}
		return nil
	}
	return one(b.s.Clear([]string{name}))
}

func (b rpcBackend) ConfigInfo() []xmlrpc.ConfigInfo {
	var out []xmlrpc.ConfigInfo
	for _, c := range b.s.Avail() {
		out = append(out, rpcConfigInfo(c))
	}
	return out
}

func rpcConfigInfo(c ConfigInfo) xmlrpc.ConfigInfo {
	p := c.Program
	autorestart := "unexpected"
	switch p.AutoRestart {
	case config.RestartAlways:
		autorestart = "true"
	case config.RestartNever:
		autorestart = "false"
	}
	return xmlrpc.ConfigInfo{
		Name: processPart(c.Name), Group: c.Group, InUse: c.InUse, AutoStart: c.AutoStart,
		AutoRestart: autorestart, Command: p.Cmd, Directory: p.WorkingDir, UID: p.UID,
		ExitCodes: p.ExitCodes, StartRetries: p.StartRetries,
		StartSecs: int(p.StartTime.Seconds()), StopSignal: p.StopSignal,
		StopWaitSecs: int(p.StopTime.Seconds()), KillAsGroup: true,
		RedirectStderr: p.Stderr != "" && p.Stderr == p.Stdout,
		GroupPrio:      999, ProcessPrio: 999, // supervisor's default priority: taskmaster has no priorities
		StdoutLog: p.Stdout, StdoutMaxBytes: p.StdoutMaxBytes, StdoutBackups: p.StdoutBackups,
		StderrLog: p.Stderr, StderrMaxBytes: p.StderrMaxBytes, StderrBackups: p.StderrBackups,
	}
}

// Reread answers supervisor's reloadConfig: the programs the file adds,
// changes (in any way: supervisorctl's update restarts them) and removes.
func (b rpcBackend) Reread() (xmlrpc.Changes, error) {
	plan, err := b.s.Reread()
	if err != nil {
		return xmlrpc.Changes{}, fmt.Errorf("%w: %s", xmlrpc.ErrCantReread, ErrorText(err))
	}
	ch := xmlrpc.Changes{Added: []string{}, Changed: []string{}, Removed: []string{}}
	for _, c := range plan.Changes {
		switch c.Kind {
		case config.Added:
			ch.Added = append(ch.Added, c.Program)
		case config.Removed:
			ch.Removed = append(ch.Removed, c.Program)
		default:
			ch.Changed = append(ch.Changed, c.Program)
		}
	}
	return ch, nil
}

func (b rpcBackend) AddGroup(name string) error { return rpcErr(b.s.AddProgram(name)) }

func (b rpcBackend) RemoveGroup(name string) error { return rpcErr(b.s.RemoveProgram(name)) }

// Restart is supervisord's restart: every process stopped, the file read
// again, and every program made anew from it (so none keeps the state of
// before: all are STOPPED, Not started, until autostart starts them). A
// file with errors changes nothing: the programs of before start again.
// It answers at once, as supervisord does.
func (b rpcBackend) Restart() error {
	if b.State() != xmlrpc.StateServing {
		return xmlrpc.ErrShuttingDown
	}
	b.s.GoSafe(func() {
		ctx := context.Background()
		b.s.Logf("INFO", "restart requested through the XML-RPC API")
		b.s.Stop(ctx, []string{"all"}, true)
		if _, err := b.s.Reread(); err != nil {
			b.s.Logf("ERROR", "restart: %s; the programs of before start again", ErrorText(err))
			b.startAutostart(ctx)
			return
		}
		for _, c := range b.s.Avail() {
			if c.InUse {
				b.s.RemoveProgram(c.Group) // a program of several processes: once is enough
			}
		}
		if _, done, err := b.s.Reload(); err != nil {
			b.s.Logf("ERROR", "restart: %s", ErrorText(err))
		} else {
			<-done
		}
	})
	return nil
}

// startAutostart starts the autostart programs' processes.
func (b rpcBackend) startAutostart(ctx context.Context) {
	var auto []string
	for _, c := range b.s.Avail() {
		if c.InUse && c.AutoStart && !slices.Contains(auto, c.Name) {
			auto = append(auto, c.Name)
		}
	}
	if len(auto) > 0 {
		b.s.Start(ctx, auto, false)
	}
}

func (b rpcBackend) Shutdown() error {
	if b.State() != xmlrpc.StateServing {
		return xmlrpc.ErrShuttingDown
	}
	b.s.Shutdown()
	return nil
}

// rpcErr maps the API's error kinds onto the XML-RPC server's, which it
// turns into supervisor's faults; the detail is kept.
func rpcErr(err error) error {
	if err == nil {
		return nil
	}
	kinds := []struct{ ours, theirs error }{
		{ErrNoSuchProcess, xmlrpc.ErrBadName},
		{ErrBadName, xmlrpc.ErrBadName},
		{ErrAlreadyStarted, xmlrpc.ErrAlreadyStarted},
		{ErrNotRunning, xmlrpc.ErrNotRunning},
		{ErrSpawn, xmlrpc.ErrSpawn},
		{ErrAbnormal, xmlrpc.ErrAbnormalTermination},
		{ErrShuttingDown, xmlrpc.ErrShuttingDown},
		{ErrNoLog, xmlrpc.ErrNoFile},
		{ErrNoOutput, xmlrpc.ErrNoFile},
		{ErrNotTTY, xmlrpc.ErrNoFile},
		{ErrAlreadyAdded, xmlrpc.ErrAlreadyAdded},
		{ErrStillRunning, xmlrpc.ErrStillRunning},
		{ErrConfig, xmlrpc.ErrCantReread},
	}
	for _, k := range kinds {
		if errors.Is(err, k.ours) {
			return fmt.Errorf("%w: %s", k.theirs, Reason(err))
		}
	}
	return fmt.Errorf("%w: %s", xmlrpc.ErrFailed, ErrorText(err))
}

// rpcFace serves supervisor's XML-RPC API on the listeners the config
// names: the unix socket (taskmaster.xmlrpc) and TCP (taskmaster.inet).
type rpcFace struct {
	srv  *xmlrpc.Server
	unix net.Listener // nil: none
	tcp  net.Listener // nil: none
	auth *xmlrpc.Auth
}

// XMLRPCFace makes the XML-RPC server of g's listeners; it listens at
// once, so a socket it cannot make stops the start with the error.
func XMLRPCFace(s *Supervisor, g config.Global) (Face, error) {
	f := &rpcFace{srv: xmlrpc.New(s.XMLRPCBackend(), xmlrpc.Options{Logf: s.Logf})}
	if g.XMLRPC != "" {
		ln, err := xmlrpc.ListenUnix(g.XMLRPC)
		if err != nil {
			return nil, err
		}
		f.unix = ln
	}
	if g.Inet != nil {
		ln, err := net.Listen("tcp", g.Inet.Listen)
		if err != nil {
			if f.unix != nil {
				f.unix.Close()
			}
			return nil, fmt.Errorf("xmlrpc listen %s: %w", g.Inet.Listen, err)
		}
		f.tcp = ln
		if g.Inet.Username != "" || g.Inet.Password != "" {
			f.auth = &xmlrpc.Auth{Username: g.Inet.Username, Password: g.Inet.Password}
		}
	}
	return f, nil
}

// Serve serves both listeners until Close.
func (f *rpcFace) Serve() {
	var wg sync.WaitGroup
	for _, l := range []struct {
		ln   net.Listener
		auth *xmlrpc.Auth
	}{{f.unix, nil}, {f.tcp, f.auth}} {
		if l.ln != nil {
			wg.Go(func() { f.srv.Serve(l.ln, l.auth) })
		}
	}
	wg.Wait()
}

func (f *rpcFace) Close() error {
	err := f.srv.Close()
	for _, ln := range []net.Listener{f.unix, f.tcp} {
		if ln != nil {
			ln.Close()
		}
	}
	return err
}
