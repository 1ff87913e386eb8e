package master

import (
	"maps"
	"slices"

	"github.com/taskmaster/taskmaster/config"
)

// AddProgram makes a program of the config file active, as supervisor's
// `add` (addProcessGroup) does: the file is read again, the program's
// processes are created with its settings there and its autostart ones
// started; nothing else of the file is applied (that is Reload's).
// Errors: ErrConfig (the file cannot be read or has errors), ErrBadName
// (no such program in the file), ErrAlreadyAdded (it is active),
// ErrStopping (its processes of a removal are still stopping),
// ErrShuttingDown.
func (s *Supervisor) AddProgram(name string) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	newCfg, err := s.opts.Load()
	if err != nil {
		return configErr(err)
	}
	prog, ok := newCfg.Programs[name]
	if !ok {
		return fail(ErrBadName, "no program "+name+" in "+newCfg.Path)
	}
	if lerr := s.onLoop(func() {
		switch {
		case s.shutdown != nil:
			err = ErrShuttingDown
		case len(s.progs[name]) > 0:
			err = fail(ErrAlreadyAdded, name)
		case slices.ContainsFunc(s.retiring, func(p *Process) bool { return p.Program.Name == name }):
			err = fail(ErrStopping, name)
		default:
			s.cfg, s.loaded = withProgram(s.cfg, prog, newCfg.Order), newCfg
			ps := s.addProgram(prog)
			s.reorder()
			s.log.Logf("INFO", "added program %s", name)
			for _, p := range ps {
				if prog.AutoStart {
					s.autoStart(p)
				}
			}
		}
	}); lerr != nil {
		return lerr
	}
	return err
}

// RemoveProgram makes a program inactive, as supervisor's `remove`
// (removeProcessGroup) does: its processes are forgotten (and their
// state files removed) until AddProgram or a Reload brings it back. Every
// one of them must be stopped (STOPPED, EXITED or FATAL): else
// ErrStillRunning. ErrBadName: no such active program.
func (s *Supervisor) RemoveProgram(name string) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	var err error
	if lerr := s.onLoop(func() {
		ps := s.progs[name]
		switch {
		case len(ps) == 0:
			err = fail(ErrBadName, "no active program "+name)
			return
		case slices.ContainsFunc(ps, func(p *Process) bool { return p.state.active() || p.state == Stopping || p.w != nil }):
			err = fail(ErrStillRunning, name)
			return
		}
		for _, p := range ps {
			delete(s.procs, p.Name)
			delete(s.watch, p)
			p.cancelTimer()
			s.unrecord(p.Name)
			s.log.Write(p.Name, Event{Msg: "removed"})
		}
		delete(s.progs, name)
		s.cfg = withoutProgram(s.cfg, name)
		s.reorder()
	}); lerr != nil {
		return lerr
	}
	return err
}

// withProgram is cfg with prog added, placed among cfg's programs as in
// order (the file's). cfg itself is not changed: it may be shared.
func withProgram(cfg *config.Config, prog *config.Program, order []string) *config.Config {
	c := *cfg
	c.Programs = maps.Clone(cfg.Programs)
	c.Programs[prog.Name] = prog
	c.Order = nil
	for _, n := range order {
		if _, ok := c.Programs[n]; ok {
			c.Order = append(c.Order, n)
		}
	}
	// Programs active but gone from the file keep their place at the end.
	for _, n := range cfg.Order {
		if !slices.Contains(c.Order, n) {
			c.Order = append(c.Order, n)
		}
	}
	return &c
}

// withoutProgram is cfg without the program name; cfg is not changed.
func withoutProgram(cfg *config.Config, name string) *config.Config {
	c := *cfg
	c.Programs = maps.Clone(cfg.Programs)
	delete(c.Programs, name)
	c.Order = slices.DeleteFunc(slices.Clone(cfg.Order), func(n string) bool { return n == name })
	return &c
}
