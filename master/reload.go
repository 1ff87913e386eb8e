package master

import (
	"errors"
	"fmt"
	"slices"

	"github.com/taskmaster/taskmaster/config"
)

// RequestReload asks for a reload without waiting (SIGHUP). Requests that
// arrive while one is pending fold into it.
func (s *Supervisor) RequestReload() {
	select {
	case s.reloads <- struct{}{}:
	default:
	}
}

// reloader serves RequestReload, one reload at a time.
func (s *Supervisor) reloader() {
	for {
		select {
		case <-s.reloads:
			s.Reload()
		case <-s.closed:
			return
		}
	}
}

// Reread returns what a reload would change, changing nothing. A config
// file that cannot be read or has errors is ErrConfig (errors.As on
// config.Errors lists them).
func (s *Supervisor) Reread() (Plan, error) {
	newCfg, err := s.opts.Load()
	if err != nil {
		return Plan{}, configErr(err)
	}
	var plan config.Plan
	// The file as read is what `avail` lists from now on, as supervisor's
	// reread (reloadConfig) makes it.
	if err := s.onLoop(func() { plan, s.loaded = config.Diff(s.cfg, newCfg), newCfg }); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// configErr is the API's error for a config that cannot be used.
func configErr(err error) error {
	return &Error{Kind: ErrConfig, Detail: err.Error(), Cause: err}
}

// Reload reads the config file again and applies it; on any error nothing
// changes: ErrConfig for a config that cannot be read or has errors,
// ErrFailed for a change that needs a restart of the master (rundir,
// socket) or a logfile that cannot be opened, ErrShuttingDown. It
// returns the plan and a channel closed once every process it stopped has
// stopped (and been replaced or forgotten).
//
// reloadMu is held only while the file is read and the plan applied: the
// config's limits bound the parse (issue 10, point 8), so a reload that
// waits for it waits at most that long.
func (s *Supervisor) Reload() (Plan, <-chan struct{}, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	done := make(chan struct{})
	newCfg, err := s.opts.Load()
	if err != nil {
		s.logReloadError(err)
		return Plan{}, nil, configErr(err)
	}
	var plan config.Plan
	var waits []chan struct{}
	ok := s.do(func() {
		plan = config.Diff(s.cfg, newCfg)
		if err = s.refuse(plan); err == nil {
			err = s.switchLog(newCfg, plan)
		}
		if err == nil {
			waits = s.apply(newCfg, plan)
		}
	})
	if !ok {
		err = ErrShuttingDown
	}
	if err != nil {
		s.logReloadError(err)
		if _, typed := errors.AsType[*Error](err); !typed && err != ErrShuttingDown {
			err = &Error{Kind: ErrFailed, Detail: err.Error(), Cause: err}
		}
		return Plan{}, nil, err
	}
	s.GoSafe(func() {
		for _, w := range waits {
			<-w
		}
		close(done)
	})
	return plan, done, nil
}

func (s *Supervisor) logReloadError(err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			s.log.Logf("ERROR", "reload failed, nothing changed: %v", e)
		}
		return
	}
	s.log.Logf("ERROR", "reload failed, nothing changed: %v", err)
}

// refuse rejects a plan that needs a restart of the master. Loop only.
func (s *Supervisor) refuse(plan config.Plan) error {
	if s.shutdown != nil {
		return ErrShuttingDown
	}
	for _, k := range plan.Global {
		if k == "rundir" || k == "statedir" || k == "socket" || k == "xmlrpc" || k == "inet" {
			return fmt.Errorf("taskmaster.%s changed: restart taskmaster to use it", k)
		}
	}
	return nil
}

// switchLog moves the event log to a changed logfile before anything
// else is applied: a logfile that cannot be opened refuses the whole
// reload, as any invalid config does, instead of keeping the old log
// while saying "changed". Loop only.
func (s *Supervisor) switchLog(newCfg *config.Config, plan config.Plan) error {
	if !slices.Contains(plan.Global, "logfile") {
		return nil
	}
	if err := s.log.SetPath(newCfg.Global.LogFile); err != nil {
		return fmt.Errorf("%s: taskmaster.logfile: %w", newCfg.Path, err)
	}
	return nil
}

// PlanLines describes a plan as reread and reload print it.
func PlanLines(plan config.Plan) []string {
	if plan.Empty() {
		return []string{"No config updates."}
	}
	var lines []string
	if len(plan.Global) > 0 {
		lines = append(lines, fmt.Sprintf("taskmaster: changed (%s)", joinKeys(plan.Global)))
	}
	for _, c := range plan.Changes {
		lines = append(lines, c.String())
	}
	return lines
}

func joinKeys(keys []string) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}

// apply moves the running state to newCfg. Loop only. It returns one
// channel per process it had to stop.
func (s *Supervisor) apply(newCfg *config.Config, plan config.Plan) []chan struct{} {
	if len(plan.Global) == 0 && len(plan.Changes) == 0 {
		s.log.Logf("INFO", "reload: no changes")
	}
	if slices.Contains(plan.Global, "notify") {
		s.notify = newCfg.Global.Notify
	}
	for _, line := range PlanLines(plan) {
		if !plan.Empty() {
			s.log.Logf("INFO", "reload: %s", line)
		}
	}
	s.cfg, s.loaded = newCfg, newCfg
	var waits []chan struct{}
	var starts []*Process
	changed := map[string]bool{}
	for _, c := range plan.Changes {
		changed[c.Program] = true
		np := newCfg.Programs[c.Program]
		switch c.Kind {
		case config.Added:
			if back := s.takeBack(np.Name); len(back) > 0 {
				w, st := s.readd(np, back)
				waits = append(waits, w...)
				starts = append(starts, st...)
				continue
			}
			for _, p := range s.addProgram(np) {
				if np.AutoStart {
					starts = append(starts, p)
				}
			}
		case config.Removed:
			for _, p := range s.progs[c.Program] {
				waits = append(waits, s.retire(p))
			}
			delete(s.progs, c.Program)
		case config.Policy:
			for _, p := range s.progs[c.Program] {
				p.setProgram(np)
			}
		case config.NumProcs, config.Reshaped:
			w, st := s.resize(np, c.Kind == config.Reshaped)
			waits = append(waits, w...)
			starts = append(starts, st...)
		}
	}
	// Unchanged programs take the new (equal) settings, so later reloads
	// compare against what is in force.
	for name, ps := range s.progs {
		if !changed[name] {
			for _, p := range ps {
				p.setProgram(newCfg.Programs[name])
			}
		}
	}
	s.reorder()
	for _, p := range starts {
		s.autoStart(p)
	}
	return nonNil(waits)
}

func nonNil(chs []chan struct{}) []chan struct{} {
	return slices.DeleteFunc(chs, func(c chan struct{}) bool { return c == nil })
}

// takeBack removes from the retiring the processes of program name, a
// program removed by an earlier reload and still stopping, in index order.
func (s *Supervisor) takeBack(name string) []*Process {
	var back []*Process
	s.retiring = slices.DeleteFunc(s.retiring, func(p *Process) bool {
		if p.Program.Name == name {
			back = append(back, p)
			return true
		}
		return false
	})
	return back
}

// readd gives a re-added program the processes it had, still stopping:
// they show as STOPPING, and the new settings start once each is stopped
// (a reshape), so old and new jobs never run side by side.
func (s *Supervisor) readd(np *config.Program, back []*Process) (waits []chan struct{}, starts []*Process) {
	for _, p := range back {
		s.procs[p.Name] = p
	}
	s.progs[np.Name] = back
	return s.resize(np, true)
}

// resize maps a program's processes by index onto its new process names:
// kept ones are renamed (1 <-> N changes `prog` <-> `prog:prog_00`) and take
// the new settings (reshape: after a stop with the old ones); extra ones
// retire; missing ones are created.
func (s *Supervisor) resize(np *config.Program, reshape bool) (waits []chan struct{}, starts []*Process) {
	names := np.ProcessNames()
	old := s.progs[np.Name]
	var kept []*Process
	for i, p := range old {
		if i >= len(names) {
			waits = append(waits, s.retire(p))
			continue
		}
		s.rename(p, names[i])
		kept = append(kept, p)
		if reshape {
			waits = append(waits, s.replace(p, np))
		} else {
			p.setProgram(np)
		}
	}
	s.progs[np.Name] = kept
	for _, name := range names[len(kept):] {
		p := s.addProcess(name, np)
		if np.AutoStart {
			starts = append(starts, p)
		}
	}
	return waits, starts
}

func (s *Supervisor) rename(p *Process, name string) {
	if p.Name == name {
		return
	}
	s.log.Write(p.Name, Event{Msg: "renamed to " + name, Pid: p.pid})
	delete(s.procs, p.Name)
	old := p.Name
	p.Name = name
	s.procs[name] = p
	if p.w == nil {
		s.unrecord(old)
		s.record(p)
		return
	}
	p.sendStatus()
}

// setProgram gives p new settings: at once, or after the stop a pending
// reshape waits for.
func (p *Process) setProgram(np *config.Program) {
	if p.next != nil {
		p.next = np
		return
	}
	p.Program = np
}

// replace stops p with its old settings, then gives it np and starts it if
// it was running (or trying to) before, or np says autostart.
func (s *Supervisor) replace(p *Process, np *config.Program) chan struct{} {
	if p.next != nil {
		// A reshape already waits for this process to stop.
		p.next = np
		p.nextStart = p.nextStart || np.AutoStart
		return nil
	}
	p.next, p.nextStart = np, p.state.active() || np.AutoStart
	if p.state.active() {
		p.Stop()
	}
	done := make(chan struct{})
	s.Watch(p, func(p *Process) bool {
		if p.state == Stopping || p.state.active() {
			return false
		}
		if p.next != nil {
			p.Program, p.next = p.next, nil
			if p.nextStart {
				p.Start()
			}
		}
		close(done)
		return true
	})
	return done
}

// retire stops p with its settings and forgets it once stopped.
func (s *Supervisor) retire(p *Process) chan struct{} {
	delete(s.procs, p.Name)
	p.next = nil
	s.retiring = append(s.retiring, p)
	if p.state.active() {
		p.Stop()
	}
	done := make(chan struct{})
	s.Watch(p, func(p *Process) bool {
		if !slices.Contains(s.retiring, p) {
			close(done) // a re-add took it back (readd)
			return true
		}
		if p.state == Stopping {
			return false
		}
		s.retiring = slices.DeleteFunc(s.retiring, func(q *Process) bool { return q == p })
		s.reorder()
		s.log.Write(p.Name, Event{Msg: "removed"})
		close(done)
		return true
	})
	return done
}
