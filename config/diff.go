package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ChangeKind classifies what a reload does to one program.
type ChangeKind int

const (
	Added    ChangeKind = iota + 1
	Removed             // stopped with its old settings, then forgotten
	Policy              // supervision settings only: applied in place
	NumProcs            // processes added or removed at the end (policy may change too)
	Reshaped            // its processes are stopped, then started anew
)

// Change is one program's difference between two configs.
type Change struct {
	Program string
	Kind    ChangeKind
	Keys    []string // the changed keys, in programKeys' order
	OldNum  int
	NewNum  int
}

// String is the line `reread` prints.
func (c Change) String() string {
	keys := strings.Join(c.Keys, ", ")
	switch c.Kind {
	case Added:
		return c.Program + ": added"
	case Removed:
		return c.Program + ": removed"
	case Policy:
		return fmt.Sprintf("%s: policy changed (%s)", c.Program, keys)
	case NumProcs:
		s := fmt.Sprintf("%s: numprocs %d -> %d", c.Program, c.OldNum, c.NewNum)
		if policy := slices.DeleteFunc(slices.Clone(c.Keys), func(k string) bool { return k == "numprocs" }); len(policy) > 0 {
			s += fmt.Sprintf(", policy changed (%s)", strings.Join(policy, ", "))
		}
		return s
	}
	return fmt.Sprintf("%s: changed (%s)", c.Program, keys)
}

// Plan is everything a reload would change.
type Plan struct {
	Changes []Change
	// Global lists the changed keys of the `taskmaster:` section.
	Global []string
}

// Empty reports whether the two configs are the same for a reload.
func (p Plan) Empty() bool { return len(p.Changes) == 0 && len(p.Global) == 0 }

// programKey is one program key and how to compare it.
type programKey struct {
	name   string
	policy bool // supervision only: no restart needed
	equal  func(a, b *Program) bool
}

func eq[T comparable](f func(*Program) T) func(a, b *Program) bool {
	return func(a, b *Program) bool { return f(a) == f(b) }
}

// programKeys covers every field of Program; TestDiffCoversEveryField
// fails when a field is added without a line here.
var programKeys = []programKey{
	{"cmd", false, func(a, b *Program) bool { return slices.Equal(a.Argv, b.Argv) }},
	{"numprocs", true, eq(func(p *Program) int { return p.NumProcs })},
	{"umask", false, eq(func(p *Program) int { return p.Umask })},
	{"workingdir", false, eq(func(p *Program) string { return p.WorkingDir })},
	{"autostart", true, eq(func(p *Program) bool { return p.AutoStart })},
	{"autorestart", true, eq(func(p *Program) AutoRestart { return p.AutoRestart })},
	{"exitcodes", true, func(a, b *Program) bool { return slices.Equal(a.ExitCodes, b.ExitCodes) }},
	{"startretries", true, eq(func(p *Program) int { return p.StartRetries })},
	{"starttime", true, eq(func(p *Program) int64 { return int64(p.StartTime) })},
	{"stopsignal", true, eq(func(p *Program) int { return int(p.StopSignal) })},
	{"stoptime", true, eq(func(p *Program) int64 { return int64(p.StopTime) })},
	{"stdout", false, eq(func(p *Program) string { return p.Stdout })},
	{"stderr", false, eq(func(p *Program) string { return p.Stderr })},
	{"stdout_maxbytes", false, eq(func(p *Program) int64 { return p.StdoutMaxBytes })},
	{"stdout_backups", false, eq(func(p *Program) int { return p.StdoutBackups })},
	{"stderr_maxbytes", false, eq(func(p *Program) int64 { return p.StderrMaxBytes })},
	{"stderr_backups", false, eq(func(p *Program) int { return p.StderrBackups })},
	{"env", false, func(a, b *Program) bool { return maps.Equal(a.Env, b.Env) }},
	{"clearenv", false, eq(func(p *Program) bool { return p.ClearEnv })},
	{"user", false, eq(func(p *Program) int { return p.UID })},
	{"group", false, eq(func(p *Program) int { return p.GID })},
	{"tty", false, eq(func(p *Program) bool { return p.TTY })},
	{"nonewprivs", false, eq(func(p *Program) bool { return p.NoNewPrivs })},
}

// ComparePrograms returns the kind of change from a to b (0 when equal)
// and the keys that changed.
func ComparePrograms(a, b *Program) (ChangeKind, []string) {
	var keys []string
	kind := ChangeKind(0)
	for _, k := range programKeys {
		if k.equal(a, b) {
			continue
		}
		keys = append(keys, k.name)
		switch {
		case !k.policy:
			kind = Reshaped
		case k.name == "numprocs" && kind != Reshaped:
			kind = NumProcs
		case kind == 0:
			kind = Policy
		}
	}
	return kind, keys
}

// Diff is the reload plan from old to new: changed and added programs in
// new's order, then removed ones in old's order. It is a pure function.
func Diff(old, new *Config) Plan {
	var plan Plan
	for _, name := range new.Order {
		np := new.Programs[name]
		op, ok := old.Programs[name]
		if !ok {
			plan.Changes = append(plan.Changes, Change{Program: name, Kind: Added, NewNum: np.NumProcs})
			continue
		}
		if kind, keys := ComparePrograms(op, np); kind != 0 {
			plan.Changes = append(plan.Changes, Change{Program: name, Kind: kind, Keys: keys, OldNum: op.NumProcs, NewNum: np.NumProcs})
		}
	}
	for _, name := range old.Order {
		if _, ok := new.Programs[name]; !ok {
			plan.Changes = append(plan.Changes, Change{Program: name, Kind: Removed, OldNum: old.Programs[name].NumProcs})
		}
	}
	plan.Global = diffGlobal(old.Global, new.Global)
	return plan
}

func diffGlobal(a, b Global) []string {
	var keys []string
	add := func(key string, same bool) {
		if !same {
			keys = append(keys, key)
		}
	}
	add("logfile", a.LogFile == b.LogFile)
	add("rundir", a.RunDir == b.RunDir)
	add("statedir", a.StateDir == b.StateDir)
	add("socket", a.Socket == b.Socket)
	add("history", a.History == b.History)
	add("detachkey", slices.Equal(a.DetachKey, b.DetachKey))
	add("notify", a.Notify == b.Notify)
	add("xmlrpc", a.XMLRPC == b.XMLRPC)
	add("inet", (a.Inet == nil && b.Inet == nil) || (a.Inet != nil && b.Inet != nil && *a.Inet == *b.Inet))
	return keys
}
