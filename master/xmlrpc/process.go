package xmlrpc

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pollEvery is how often a held answer looks at the processes again
// (supervisor's deferred callbacks run every 50 ms).
const pollEvery = 50 * time.Millisecond

// splitNamespec is supervisor's split_namespec: "g:n" is group g,
// process n; "g:" and "g:*" are the whole group (process ""); "n" is
// group n, process n.
func splitNamespec(spec string) (group, name string) {
	g, n, ok := strings.Cut(spec, ":")
	if !ok {
		return spec, spec
	}
	if n == "*" {
		n = ""
	}
	return g, n
}

// lookup is supervisor's _getGroupAndProcess on a snapshot: BAD_NAME for
// an unknown group or process; a nil process for a whole group.
func lookup(procs []Process, spec string) (*Process, error) {
	group, name := splitNamespec(spec)
	found := false
	for i := range procs {
		if procs[i].Group != group {
			continue
		}
		found = true
		if procs[i].Name == name {
			return &procs[i], nil
		}
	}
	if !found || name != "" {
		return nil, fault(BadName, spec)
	}
	return nil, nil
}

// groupOf is the processes of group, in the master's order; BAD_NAME if
// there are none.
func groupOf(procs []Process, group string) ([]Process, error) {
	var out []Process
	for _, p := range procs {
		if p.Group == group {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fault(BadName, group)
	}
	return out, nil
}

// info is getProcessInfo's struct, its fields in supervisor's order.
func info(p *Process, now time.Time) Struct {
	start, stop := unixTime(p.Start), unixTime(p.Stop)
	n := unixTime(now)
	return Struct{
		{"name", p.Name},
		{"group", p.Group},
		{"start", start},
		{"stop", stop},
		{"now", n},
		{"state", int(p.State)},
		{"statename", p.State.String()},
		{"spawnerr", p.SpawnErr},
		{"exitstatus", p.ExitStatus},
		{"logfile", p.StdoutLog},
		{"stdout_logfile", p.StdoutLog},
		{"stderr_logfile", p.StderrLog},
		{"pid", p.PID},
		{"description", description(p, start, n)},
	}
}

// unixTime is supervisor's capped_int of a time: seconds, clamped to
// int32 (XML-RPC's int), 0 for the zero time.
func unixTime(t time.Time) int {
	if t.IsZero() {
		return 0
	}
	return int(max(min(t.Unix(), math.MaxInt32), math.MinInt32))
}

// description is supervisor's _interpretProcessInfo; dashboards parse
// the RUNNING form ("pid N, uptime H:MM:SS").
func description(p *Process, start, now int) string {
	switch p.State {
	case StateRunning:
		return fmt.Sprintf("pid %d, uptime %s", p.PID, Uptime(now-start))
	case StateFatal, StateBackoff:
		if p.SpawnErr != "" {
			return p.SpawnErr
		}
		return fmt.Sprintf("unknown error (try \"tail %s\")", p.Name)
	case StateStopped, StateExited:
		if start == 0 {
			return "Not started"
		}
		return time.Unix(int64(unixTime(p.Stop)), 0).Local().Format("Jan 02 03:04 PM")
	}
	return ""
}

// Uptime formats seconds as supervisor's descriptions do, Python's
// str(timedelta): "H:MM:SS", or "D day(s), H:MM:SS"; a clock set back
// gives 0:00:00. The master's own status lines use it too.
func Uptime(secs int) string {
	secs = max(secs, 0)
	days, rest := secs/86400, secs%86400
	hms := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}

// process is the one process name names: BAD_NAME for a group.
func (s *Server) process(name string) (*Process, error) {
	p, err := lookup(s.b.Processes(), name)
	if err == nil && p == nil {
		err = fault(BadName, name)
	}
	return p, err
}

func (s *Server) getProcessInfo(_ context.Context, a *args) (any, error) {
	name := a.str(0)
	p, err := s.process(name)
	if err != nil {
		return nil, err
	}
	return info(p, time.Now()), nil
}

// getAllProcessInfo lists every process sorted by group, then name
// (supervisor's _getAllProcesses(lexical=True)).
func (s *Server) getAllProcessInfo(context.Context, *args) (any, error) {
	procs := s.b.Processes()
	sort.SliceStable(procs, func(i, j int) bool {
		if procs[i].Group != procs[j].Group {
			return procs[i].Group < procs[j].Group
		}
		return procs[i].Name < procs[j].Name
	})
	now := time.Now()
	out := make([]any, len(procs))
	for i := range procs {
		out[i] = info(&procs[i], now)
	}
	return out, nil
}

// action is one of start, stop, signal, clear on one process; wait says
// when a started one is done (nil: at once).
type action struct {
	pred func(ProcessState) bool                  // which processes a group or "all" acts on
	do   func(p *Process) error                   // on one process; errors are faults
	wait func(p *Process) (done bool, err *Fault) // nil: the action is done when do returns
}

func (s *Server) startAction(wait bool) action {
	a := action{
		pred: func(st ProcessState) bool { return !st.running() },
		do: func(p *Process) error {
			spec := p.Namespec()
			if p.State.running() {
				return fault(AlreadyStarted, spec)
			}
			if err := s.b.Start(spec); err != nil {
				return faultOf(err, spec)
			}
			return nil
		},
	}
	if wait {
		// supervisor's onwait: a spawn error, or any state but STARTING
		// and RUNNING, ends the wait with a fault. EXITED is reached only
		// through RUNNING, so a job that ran and ended between two polls
		// (a starttime of 0 and a quick job) was started: supervisord
		// answers true at once for startsecs=0.
		a.wait = func(p *Process) (bool, *Fault) {
			switch {
			case p.State == StateRunning || p.State == StateExited:
				return true, nil
			case p.State == StateStarting:
				return false, nil
			case p.SpawnErr != "" && (p.State == StateBackoff || p.State == StateFatal):
				return true, fault(SpawnError, p.Namespec())
			}
			return true, fault(AbnormalTermination, p.Namespec())
		}
	}
	return a
}

func (s *Server) stopAction(wait bool) action {
	a := action{
		pred: ProcessState.running,
		do: func(p *Process) error {
			spec := p.Namespec()
			if !p.State.running() {
				return fault(NotRunning, spec)
			}
			if err := s.b.Stop(spec); err != nil {
				return faultOf(err, spec)
			}
			return nil
		},
	}
	if wait {
		a.wait = func(p *Process) (bool, *Fault) { return p.State.stopped(), nil }
	}
	return a
}

// signalAction checks the signal before anything, as supervisor does.
func (s *Server) signalAction(signame string) (action, error) {
	sig, ok := signalNumber(signame)
	if !ok {
		return action{}, fault(BadSignal, signame)
	}
	return action{
		pred: ProcessState.signallable,
		do: func(p *Process) error {
			spec := p.Namespec()
			if !p.State.signallable() {
				return fault(NotRunning, spec)
			}
			if err := s.b.Signal(spec, sig); err != nil {
				return faultOf(err, spec)
			}
			return nil
		},
	}, nil
}

// signalNumber is supervisor's signal_number: a number, or a name with or
// without "SIG", in any case.
func signalNumber(v string) (syscall.Signal, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return syscall.Signal(n), n > 0 && n < 65
	}
	name := strings.ToUpper(v)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	return sig, sig != 0
}

// one runs an action on one process named by spec, waiting if asked; a
// whole-group spec ("g:*", or a group's name that is no process's) acts
// on the group and answers its result array, as supervisor's does.
func (s *Server) one(ctx context.Context, spec string, act action) (any, error) {
	procs := s.b.Processes()
	p, err := lookup(procs, spec)
	if err != nil {
		return nil, err
	}
	if p == nil {
		group, _ := splitNamespec(spec)
		return s.many(ctx, procs, group, act)
	}
	if err := act.do(p); err != nil {
		return nil, err
	}
	if act.wait == nil {
		return true, nil
	}
	res := s.await(ctx, []Process{*p}, act.wait)
	if f := res[0].f; f != nil {
		return nil, f
	}
	return true, nil
}

// many runs an action on a group (all processes when group is "") and
// answers supervisor's result structs: first the processes whose action
// ended at once (with a fault, or with no wait), then the waited ones as
// they finish.
func (s *Server) many(ctx context.Context, procs []Process, group string, act action) (any, error) {
	if group != "" {
		var err error
		if procs, err = groupOf(procs, group); err != nil {
			return nil, err
		}
	}
	results := []any{}
	var pending []Process
	for i := range procs {
		p := &procs[i]
		if !act.pred(p.State) {
			continue
		}
		if err := act.do(p); err != nil {
			results = append(results, result(p, faultOf(err, p.Namespec())))
			continue
		}
		if act.wait == nil {
			results = append(results, result(p, nil))
			continue
		}
		pending = append(pending, *p)
	}
	for _, r := range s.await(ctx, pending, act.wait) {
		results = append(results, result(&r.p, r.f))
	}
	return results, nil
}

// result is a group/all result struct: status SUCCESS and "OK", or the
// fault's code and text.
func result(p *Process, f *Fault) Struct {
	code, text := Success, "OK"
	if f != nil {
		code, text = f.Code, f.Text
	}
	return Struct{{"name", p.Name}, {"group", p.Group}, {"status", int(code)}, {"description", text}}
}

type awaited struct {
	p Process
	f *Fault
}

// await polls the processes until wait says each of pending is done, or
// the client leaves or the server closes (then the rest end with FAILED,
// which no one reads). Results come in the order the processes finish.
func (s *Server) await(ctx context.Context, pending []Process, wait func(*Process) (bool, *Fault)) []awaited {
	var out []awaited
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for len(pending) > 0 {
		now := map[string]*Process{}
		procs := s.b.Processes()
		for i := range procs {
			now[procs[i].Namespec()] = &procs[i]
		}
		rest := pending[:0]
		for _, p := range pending {
			cur, ok := now[p.Namespec()]
			if !ok { // removed meanwhile
				out = append(out, awaited{p, fault(BadName, p.Namespec())})
				continue
			}
			if done, f := wait(cur); done {
				out = append(out, awaited{*cur, f})
				continue
			}
			rest = append(rest, p)
		}
		pending = rest
		if len(pending) == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			for _, p := range pending {
				out = append(out, awaited{p, fault(Failed, "the wait was cancelled")})
			}
			return out
		}
	}
	return out
}

// byName makes startProcess and stopProcess: (name, wait=True) on one
// process, or on a group for "g:*".
func (s *Server) byName(act func(wait bool) action) func(context.Context, *args) (any, error) {
	return func(ctx context.Context, a *args) (any, error) {
		name, wait := a.str(0), a.flag(1, true)
		return s.one(ctx, name, act(wait))
	}
}

// byGroup makes startProcessGroup and stopProcessGroup: (name, wait=True).
func (s *Server) byGroup(act func(wait bool) action) func(context.Context, *args) (any, error) {
	return func(ctx context.Context, a *args) (any, error) {
		name, wait := a.str(0), a.flag(1, true)
		return s.many(ctx, s.b.Processes(), name, act(wait))
	}
}

// onAll makes startAllProcesses and stopAllProcesses: (wait=True).
func (s *Server) onAll(act func(wait bool) action) func(context.Context, *args) (any, error) {
	return func(ctx context.Context, a *args) (any, error) {
		wait := a.flag(0, true)
		return s.many(ctx, s.b.Processes(), "", act(wait))
	}
}

// signalProcess: supervisor looks the name up before it reads the signal.
func (s *Server) signalProcess(ctx context.Context, a *args) (any, error) {
	name, sig := a.str(0), a.str(1)
	if _, err := lookup(s.b.Processes(), name); err != nil {
		return nil, err
	}
	act, err := s.signalAction(sig)
	if err != nil {
		return nil, err
	}
	return s.one(ctx, name, act)
}

func (s *Server) signalProcessGroup(ctx context.Context, a *args) (any, error) {
	name, sig := a.str(0), a.str(1)
	procs := s.b.Processes()
	if _, err := groupOf(procs, name); err != nil {
		return nil, err
	}
	act, err := s.signalAction(sig)
	if err != nil {
		return nil, err
	}
	return s.many(ctx, procs, name, act)
}

func (s *Server) signalAllProcesses(ctx context.Context, a *args) (any, error) {
	sig := a.str(0)
	act, err := s.signalAction(sig)
	if err != nil {
		return nil, err
	}
	return s.many(ctx, s.b.Processes(), "", act)
}

func (s *Server) sendProcessStdin(_ context.Context, a *args) (any, error) {
	name, chars := a.str(0), a.str(1)
	p, err := s.process(name)
	if err != nil {
		return nil, err
	}
	if p.PID == 0 || p.State == StateStopping {
		return nil, fault(NotRunning, name)
	}
	if err := s.b.WriteStdin(p.Namespec(), []byte(chars)); err != nil {
		return nil, faultOf(err, name)
	}
	return true, nil
}

func (s *Server) clearProcessLogs(_ context.Context, a *args) (any, error) {
	name := a.str(0)
	p, err := s.process(name)
	if err != nil {
		return nil, err
	}
	if err := s.b.ClearLogs(p.Namespec()); err != nil {
		return nil, faultOf(err, name)
	}
	return true, nil
}

// clearAllProcessLogs clears every process's logs in the master's order;
// each gets a result struct.
func (s *Server) clearAllProcessLogs(ctx context.Context, _ *args) (any, error) {
	return s.many(ctx, s.b.Processes(), "", action{
		pred: func(ProcessState) bool { return true },
		do: func(p *Process) error {
			if err := s.b.ClearLogs(p.Namespec()); err != nil {
				return faultOf(err, p.Namespec())
			}
			return nil
		},
	})
}

func (s *Server) reloadConfig(context.Context, *args) (any, error) {
	c, err := s.b.Reread()
	if err != nil {
		return nil, faultOf(err, "")
	}
	list := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return []any{[]any{list(c.Added), list(c.Changed), list(c.Removed)}}, nil
}

func (s *Server) addGroup(_ context.Context, a *args) (any, error) {
	name := a.str(0)
	if err := s.b.AddGroup(name); err != nil {
		return nil, faultOf(err, name)
	}
	return true, nil
}

func (s *Server) removeGroup(_ context.Context, a *args) (any, error) {
	name := a.str(0)
	if err := s.b.RemoveGroup(name); err != nil {
		return nil, faultOf(err, name)
	}
	return true, nil
}

// getAllConfigInfo lists the config's processes sorted by name, with
// supervisor 4.2's keys (and 4.3's autorestart); "" is sent as "none",
// as supervisor sends None.
func (s *Server) getAllConfigInfo(context.Context, *args) (any, error) {
	infos := s.b.ConfigInfo()
	sort.SliceStable(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	none := func(v string) string {
		if v == "" {
			return "none"
		}
		return v
	}
	out := make([]any, len(infos))
	for i, c := range infos {
		var uid any = c.UID
		if c.UID < 0 {
			uid = "none"
		}
		out[i] = Struct{
			{"autostart", c.AutoStart}, {"autorestart", c.AutoRestart},
			{"directory", none(c.Directory)}, {"uid", uid}, {"command", c.Command},
			{"exitcodes", append([]int{}, c.ExitCodes...)}, {"group", c.Group},
			{"group_prio", c.GroupPrio}, {"inuse", c.InUse}, {"killasgroup", c.KillAsGroup},
			{"name", c.Name}, {"process_prio", c.ProcessPrio}, {"redirect_stderr", c.RedirectStderr},
			{"startretries", c.StartRetries}, {"startsecs", c.StartSecs},
			{"stdout_capture_maxbytes", 0}, {"stdout_events_enabled", false},
			{"stdout_logfile", none(c.StdoutLog)}, {"stdout_logfile_backups", c.StdoutBackups},
			{"stdout_logfile_maxbytes", c.StdoutMaxBytes}, {"stdout_syslog", false},
			{"stopsignal", int(c.StopSignal)}, {"stopwaitsecs", c.StopWaitSecs},
			{"stderr_capture_maxbytes", 0}, {"stderr_events_enabled", false},
			{"stderr_logfile", none(c.StderrLog)}, {"stderr_logfile_backups", c.StderrBackups},
			{"stderr_logfile_maxbytes", c.StderrMaxBytes}, {"stderr_syslog", false},
			{"serverurl", "AUTO"},
		}
	}
	return out, nil
}
