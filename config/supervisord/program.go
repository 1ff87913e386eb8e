package supervisord

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// group is a [group:x]: its name, %(group_name)s of its programs, and its
// priority, which orders them in supervisord's start order.
type group struct {
	name     string
	priority int
}

// groups maps each program named by a [group:x] to that group.
func (im *importer) groups() map[string]group {
	out := map[string]group{}
	for _, s := range im.ini.Sections {
		name, ok := strings.CutPrefix(s.Name, "group:")
		if !ok {
			continue
		}
		k := im.ini.Lookup(s, "programs")
		if k == nil {
			continue
		}
		v, ok := im.expand(k, im.withEnviron(Vars{"here": im.here}))
		if !ok {
			continue
		}
		g := group{name: strings.TrimFunc(name, isPySpace), priority: 999}
		if pk := im.ini.Lookup(s, "priority"); pk != nil {
			n, err := integer(pk.Value)
			if err != nil {
				im.errorAt(pk, err)
			}
			g.priority = n
		}
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimFunc(p, isPySpace)
			if p == "" {
				continue
			}
			if im.ini.Section("program:"+p) == nil {
				im.errorAt(k, fmt.Errorf("%w: [%s] names unknown program %s", ErrBadValue, s.Name, p))
				continue
			}
			if _, dup := out[p]; !dup {
				out[p] = g
			}
		}
	}
	return out
}

// programKeys are the keys of [program:x] that supervisord reads; the
// value says what becomes of a key taskmaster cannot honour ("" when it
// is converted). Some notes apply only to some values: see programNotes.
var programKeys = map[string]string{
	"command": "", "process_name": "", "numprocs": "", "numprocs_start": "",
	"priority":  "not supported (programs start together, in file order; they are written in priority order)",
	"autostart": "", "autorestart": "", "startsecs": "", "startretries": "", "exitcodes": "",
	"stopsignal": "", "stopwaitsecs": "", "stopasgroup": "", "killasgroup": "",
	"user": "", "redirect_stderr": "", "environment": "", "directory": "", "umask": "",
	"stdout_logfile": "", "stdout_logfile_maxbytes": "", "stdout_logfile_backups": "",
	"stderr_logfile": "", "stderr_logfile_maxbytes": "", "stderr_logfile_backups": "",
	"stdout_capture_maxbytes": "not supported (there is no capture mode: no PROCESS_COMMUNICATION events)",
	"stderr_capture_maxbytes": "not supported (there is no capture mode: no PROCESS_COMMUNICATION events)",
	"stdout_events_enabled":   "not supported (no PROCESS_LOG events are emitted)",
	"stderr_events_enabled":   "not supported (no PROCESS_LOG events are emitted)",
	"stdout_syslog":           "not supported (output is not sent to syslog)",
	"stderr_syslog":           "not supported (output is not sent to syslog)",
	"serverurl":               "not supported (SUPERVISOR_SERVER_URL is not set for the program)",
}

// harmless reports whether a value of a not-supported key changes nothing
// (its default, written out): no warning then.
func harmless(name, value string) bool {
	switch name {
	case "stdout_capture_maxbytes", "stderr_capture_maxbytes":
		n, err := byteSize(value)
		return err == nil && n == 0
	case "stdout_events_enabled", "stderr_events_enabled", "stdout_syslog", "stderr_syslog":
		b, err := boolean(value)
		return err == nil && !b
	case "serverurl":
		return strings.EqualFold(strings.TrimFunc(value, isPySpace), "auto")
	}
	return false
}

// maxNumProcs is taskmaster's limit on numprocs.
const maxNumProcs = 10000

// proc is what supervisord would run for one process of a program.
type proc struct {
	name   string
	argv   []string
	env    []EnvVar
	dir    string
	stdout logSpec
	stderr logSpec
}

// logSpec is one *_logfile with its rotation, as supervisord reads it.
type logSpec struct {
	kind     logKind
	path     string
	maxBytes int64
	backups  int
}

// sectionReader reads one [program:x] the way _processes_from_section
// does, recording errors and warnings against the key's line.
type sectionReader struct {
	im   *importer
	s    *Section
	vars Vars // supervisor's common_expansions, which it mutates per process
}

// key returns the key (or [DEFAULT]'s), nil when unset.
func (r *sectionReader) key(name string) *Key { return r.im.ini.Lookup(r.s, name) }

// get is saneget: the value expanded with the ENV_X names and r.vars, or
// def (expanded too) when unset. ok is false after an error.
func (r *sectionReader) get(name, def string) (string, bool) {
	k := r.key(name)
	if k == nil {
		v, err := r.im.expandText(def, r.im.withEnviron(r.vars))
		if err != nil {
			r.im.errs = append(r.im.errs, &Error{File: r.s.File, Line: r.s.Line, Msg: fmt.Sprintf("%s default: %v", name, err)})
			return "", false
		}
		return v, true
	}
	return r.im.expand(k, r.im.withEnviron(r.vars))
}

// typed reads a key with a datatypes.py conversion.
func typed[T any](r *sectionReader, name, def string, conv func(string) (T, error)) T {
	var zero T
	v, ok := r.get(name, def)
	if !ok {
		return zero
	}
	x, err := conv(v)
	if err != nil {
		r.im.errorAt(r.keyOr(name), err)
		return zero
	}
	return x
}

// keyOr is the key, or a stand-in at the section header for a default.
func (r *sectionReader) keyOr(name string) *Key {
	if k := r.key(name); k != nil {
		return k
	}
	return &Key{Name: name, File: r.s.File, Line: r.s.Line}
}

// settings are the keys supervisord reads once per program, before its
// processes.
type settings struct {
	priority, startSecs, startRetries, stopWait, numProcs, numStart int
	autoStart, stopAsGroup, killAsGroup, redirect                   bool
	autoRestart, stopSignal, user, processName                      string
	exitCodes                                                       []int
	umask                                                           int
}

func (r *sectionReader) settings() settings {
	var st settings
	st.priority = typed(r, "priority", "999", integer)
	st.autoStart = typed(r, "autostart", "true", boolean)
	st.autoRestart = typed(r, "autorestart", "unexpected", autoRestart)
	st.startSecs = typed(r, "startsecs", "1", integer)
	st.startRetries = typed(r, "startretries", "3", integer)
	st.stopSignal = typed(r, "stopsignal", "TERM", stopSignal)
	st.stopWait = typed(r, "stopwaitsecs", "10", integer)
	st.stopAsGroup = typed(r, "stopasgroup", "false", boolean)
	st.killAsGroup = typed(r, "killasgroup", fmt.Sprint(st.stopAsGroup), boolean)
	st.exitCodes = typed(r, "exitcodes", "0", exitCodes)
	st.redirect = typed(r, "redirect_stderr", "false", boolean)
	st.numProcs = typed(r, "numprocs", "1", integer)
	st.numStart = typed(r, "numprocs_start", "0", integer)
	for _, name := range []string{"stdout_capture_maxbytes", "stderr_capture_maxbytes"} {
		typed(r, name, "0", byteSize)
	}
	for _, name := range []string{"stdout_events_enabled", "stderr_events_enabled"} {
		typed(r, name, "false", boolean)
	}
	st.user, _ = r.get("user", "")
	st.umask = -1
	if r.key("umask") != nil {
		st.umask = typed(r, "umask", "", octal)
	}
	st.processName = "%(program_name)s"
	if k := r.key("process_name"); k != nil {
		st.processName = k.Value
	}
	return st
}

// program converts one [program:x]: one taskmaster program, or one per
// process when supervisord would give its processes different commands,
// environments, folders or logs, which taskmaster's numprocs cannot.
func (im *importer) program(s *Section, groups map[string]group, globalEnv []EnvVar) []*Program {
	name, err := validName(strings.SplitN(s.Name, ":", 2)[1])
	if err != nil {
		im.errs = append(im.errs, &Error{File: s.File, Line: s.Line, Msg: fmt.Sprintf("[%s]: %v", s.Name, err)})
		return nil
	}
	g, grouped := groups[name]
	if !grouped {
		g.name = name
	}
	r := &sectionReader{im: im, s: s, vars: Vars{"here": im.here, "program_name": name,
		"host_node_name": im.env.Hostname, "group_name": g.name}}
	im.programNotes(s)
	st := r.settings()
	if grouped {
		st.priority = g.priority // supervisord starts the group as a whole
	}
	if st.numProcs > 1 && !strings.Contains(st.processName, "%(process_num)") {
		im.errorAt(r.keyOr("process_name"), fmt.Errorf("%w: %%(process_num) must be present within process_name when numprocs > 1", ErrBadValue))
	}
	if st.numProcs > maxNumProcs {
		im.errorAt(r.keyOr("numprocs"), fmt.Errorf("%w: numprocs %d: taskmaster runs at most %d processes of a program", ErrBadValue, st.numProcs, maxNumProcs))
		return nil
	}
	if st.stopAsGroup && !st.killAsGroup {
		im.errorAt(r.keyOr("killasgroup"), fmt.Errorf("%w: cannot set stopasgroup=true and killasgroup=false", ErrBadValue))
	}
	var procs []proc
	for n := st.numStart; n < st.numStart+st.numProcs; n++ {
		p, ok := r.process(n, st, globalEnv)
		if !ok {
			return nil
		}
		procs = append(procs, p)
	}
	if len(procs) == 0 {
		im.warn(r.keyOr("numprocs"), s.Name, "numprocs", "0: supervisord runs no process of it; not converted")
		return nil
	}
	return im.programs(r, name, st, procs)
}

// programNotes warns about the keys of s taskmaster cannot honour.
func (im *importer) programNotes(s *Section) {
	for _, k := range im.ini.Keys(s) {
		note, known := programKeys[k.Name]
		switch {
		case !known:
			im.unknownKey(s, k)
		case note != "" && !harmless(k.Name, k.Value):
			im.warn(k, s.Name, k.Name, note)
		case k.Name == "stopasgroup" || k.Name == "killasgroup":
			if b, err := boolean(k.Value); err == nil && !b {
				im.warn(k, s.Name, k.Name, "not supported (taskmaster always signals the job's whole process group)")
			}
		case k.Name == "user":
			im.warn(k, s.Name, k.Name, "differs (HOME, USER, LOGNAME and SHELL are set from the user's passwd entry; supervisord keeps its own)")
		}
	}
}

// process is the loop body of _processes_from_section for process_num n.
func (r *sectionReader) process(n int, st settings, globalEnv []EnvVar) (proc, bool) {
	r.vars["process_num"], r.vars["numprocs"] = n, st.numProcs
	for k, v := range r.im.environ {
		r.vars[k] = v
	}
	var p proc
	env, ok := r.environment()
	if !ok {
		return p, false
	}
	p.env = append([]EnvVar(nil), globalEnv...)
	for _, e := range env {
		if e.Name == "" || strings.Contains(e.Name, "=") {
			r.im.warn(r.key("environment"), r.s.Name, "environment", fmt.Sprintf("variable name %q not supported (left out)", e.Name))
			continue
		}
		p.env = setEnv(p.env, e.Name, e.Value)
		r.vars["ENV_"+e.Name] = e.Value
	}
	if r.key("directory") != nil {
		dir, ok := r.get("directory", "")
		if !ok {
			return p, false
		}
		p.dir = r.im.path(r.key("directory"), r.s.Name, dir, false)
	}
	p.stdout, ok = r.logfile("stdout")
	if !ok {
		return p, false
	}
	if p.stderr, ok = r.logfile("stderr"); !ok {
		return p, false
	}
	if st.redirect {
		p.stderr = p.stdout
	}
	if p.argv, ok = r.command(); !ok {
		return p, false
	}
	name, err := r.im.expandText(st.processName, r.vars)
	if err == nil {
		name, err = validName(name)
	}
	if err != nil {
		r.im.errorAt(r.keyOr("process_name"), err)
		return p, false
	}
	p.name = name
	return p, true
}

func (r *sectionReader) environment() ([]EnvVar, bool) {
	k := r.key("environment")
	if k == nil {
		return nil, true
	}
	v, ok := r.im.expand(k, r.vars)
	if !ok {
		return nil, false
	}
	env, err := ParseEnvironment(v)
	if err != nil {
		r.im.errorAt(k, err)
		return nil, false
	}
	return env, true
}

func (r *sectionReader) command() ([]string, bool) {
	k := r.key("command")
	if k == nil {
		r.im.errs = append(r.im.errs, &Error{File: r.s.File, Line: r.s.Line, Msg: fmt.Sprintf("program section [%s] does not specify a command", r.s.Name)})
		return nil, false
	}
	v, ok := r.get("command", "")
	if !ok {
		return nil, false
	}
	argv, err := SplitCommand(v)
	if err == nil && len(argv) == 0 {
		err = fmt.Errorf("%w: command is empty", ErrBadValue)
	}
	if err != nil {
		r.im.errorAt(k, err)
		return nil, false
	}
	if strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]) {
		argv[0] = r.im.path(k, r.s.Name, argv[0], false)
	}
	return argv, true
}

// logfile reads X_logfile and its rotation. The file name is expanded
// twice, as supervisord does (saneget, then expand again).
func (r *sectionReader) logfile(stream string) (logSpec, bool) {
	ls := logSpec{kind: logAuto}
	if k := r.key(stream + "_logfile"); k != nil {
		v, ok := r.get(stream+"_logfile", "")
		if !ok {
			return ls, false
		}
		if v, ok = r.im.expand(&Key{Name: k.Name, Value: v, File: k.File, Line: k.Line}, r.vars); !ok {
			return ls, false
		}
		switch ls.kind = logfileKind(v); ls.kind {
		case logPath:
			ls.path = r.im.path(k, r.s.Name, v, true)
		case logConsole:
			ls.path = v // for the warning; the stream is discarded
		}
	}
	ls.backups = typed(r, stream+"_logfile_backups", "10", integer)
	ls.maxBytes = typed(r, stream+"_logfile_maxbytes", "50MB", byteSize)
	if sys := r.key(stream + "_syslog"); sys != nil {
		typed(r, stream+"_syslog", "false", boolean)
	}
	return ls, true
}

// programs builds taskmaster programs from supervisord's processes.
func (im *importer) programs(r *sectionReader, name string, st settings, procs []proc) []*Program {
	im.logNotes(r, st, procs[0])
	base := im.baseProgram(r, name, st)
	base.Group = r.vars["group_name"].(string)
	if samePerProcess(procs) {
		p := base
		p.NumProcs = len(procs)
		for _, pr := range procs {
			p.Processes = append(p.Processes, pr.name)
		}
		fill(p, procs[0])
		im.checkNames(r, name, procs)
		return []*Program{p}
	}
	var out []*Program
	var names []string
	for i, pr := range procs {
		p := *base
		p.Name = pr.name
		if !validProgram().MatchString(p.Name) || p.Name == "all" {
			p.Name = fmt.Sprintf("%s_%0*d", name, width(len(procs)), i)
		}
		p.NumProcs = 1
		p.Processes = []string{pr.name}
		fill(&p, pr)
		out = append(out, &p)
		names = append(names, p.Name)
	}
	im.warn(r.keyOr("numprocs"), r.s.Name, "numprocs", fmt.Sprintf(
		"not supported with a command, environment, directory or log file that differs per process (written as %d programs: %s)",
		len(out), strings.Join(names, ", ")))
	return out
}

// validProgram is taskmaster's rule for program names.
var validProgram = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]+$`) })

func (im *importer) baseProgram(r *sectionReader, name string, st settings) *Program {
	p := &Program{Name: name, Section: r.s.Name, File: r.s.File, Line: r.s.Line,
		Priority: st.priority, Umask: st.umask, AutoStart: st.autoStart,
		AutoRestart: st.autoRestart, ExitCodes: st.exitCodes, StopSignal: st.stopSignal,
		StartRetries: im.nonNegative(r, "startretries", st.startRetries),
		StartSecs:    im.nonNegative(r, "startsecs", st.startSecs),
		StopWaitSecs: im.nonNegative(r, "stopwaitsecs", st.stopWait),
		User:         st.user}
	if !validProgram().MatchString(name) || name == "all" {
		p.Name = strings.Map(func(c rune) rune {
			if validProgram().MatchString(string(c)) {
				return c
			}
			return '_'
		}, name)
		if p.Name == "all" {
			p.Name = "all_"
		}
		im.warns = append(im.warns, Warning{File: r.s.File, Line: r.s.Line, Section: r.s.Name,
			Msg: fmt.Sprintf("program name not supported (taskmaster names use letters, digits, _ . - and not \"all\": renamed %s)", p.Name)})
	}
	return p
}

// nonNegative clamps a negative count to 0, which is what supervisord's
// comparisons make of it.
func (im *importer) nonNegative(r *sectionReader, key string, n int) int {
	if n >= 0 {
		return n
	}
	im.warn(r.keyOr(key), r.s.Name, key, fmt.Sprintf("negative value %d not supported (written as 0)", n))
	return 0
}

func fill(p *Program, pr proc) {
	p.Argv, p.Env, p.Dir = pr.argv, pr.env, pr.dir
	if pr.stdout.kind == logPath {
		p.Stdout, p.StdoutMaxBytes, p.StdoutBackups = pr.stdout.path, pr.stdout.maxBytes, pr.stdout.backups
	} else {
		p.StdoutMaxBytes, p.StdoutBackups = defaultMaxBytes, defaultBackups
	}
	if pr.stderr.kind == logPath {
		p.Stderr, p.StderrMaxBytes, p.StderrBackups = pr.stderr.path, pr.stderr.maxBytes, pr.stderr.backups
	} else {
		p.StderrMaxBytes, p.StderrBackups = defaultMaxBytes, defaultBackups
	}
}

// logNotes warns about log settings taskmaster handles differently.
func (im *importer) logNotes(r *sectionReader, st settings, pr proc) {
	for _, stream := range []string{"stdout", "stderr"} {
		k := r.key(stream + "_logfile")
		ls := pr.stdout
		if stream == "stderr" {
			ls = pr.stderr
		}
		switch {
		case k == nil:
		case stream == "stderr" && st.redirect:
			if kind := logfileKind(k.Value); kind != logNone && kind != logAuto {
				im.warn(k, r.s.Name, k.Name, "ignored since redirect_stderr is true, as by supervisord")
			}
		case ls.kind == logAuto:
			im.warn(k, r.s.Name, k.Name, "AUTO not supported (output is not written to a file; its last 64 KiB are kept for tail)")
		case ls.kind == logConsole:
			im.warn(k, r.s.Name, k.Name, ls.path+" not supported (taskmaster does not pass a job's output to its own; the output is discarded and its last 64 KiB are kept for tail)")
		case ls.kind == logSyslog:
			im.warn(k, r.s.Name, k.Name, "syslog not supported (output is not written to a file; its last 64 KiB are kept for tail)")
		}
		if b := r.key(stream + "_logfile_backups"); b != nil && ls.kind == logPath && ls.backups > 1000 {
			im.warn(b, r.s.Name, b.Name, "more than 1000 backups not supported (written as 1000)")
		}
	}
}

// samePerProcess reports whether every process runs the same thing, so
// that one program with numprocs describes them.
func samePerProcess(procs []proc) bool {
	for _, p := range procs[1:] {
		q := procs[0]
		if !slices.Equal(p.argv, q.argv) || !slices.Equal(p.env, q.env) || p.dir != q.dir ||
			p.stdout != q.stdout || p.stderr != q.stderr {
			return false
		}
	}
	return true
}

// checkNames warns when supervisord's process names are not the ones
// taskmaster gives: prog alone, or prog:prog_00, prog:prog_01, ...
func (im *importer) checkNames(r *sectionReader, name string, procs []proc) {
	want := func(i int) string {
		if len(procs) == 1 {
			return name
		}
		return fmt.Sprintf("%s_%0*d", name, width(len(procs)), i)
	}
	for i, p := range procs {
		if p.name == want(i) {
			continue
		}
		msg := fmt.Sprintf("not supported (the process is named %s, not %s:%s)", name, name, p.name)
		if len(procs) > 1 {
			msg = fmt.Sprintf("not supported (processes are named %s:%s … %s:%s, not %s:%s …)",
				name, want(0), name, want(len(procs)-1), name, procs[0].name)
		}
		k := r.keyOr("process_name")
		if r.key("process_name") == nil && r.key("numprocs_start") != nil {
			k = r.key("numprocs_start")
		}
		im.warn(k, r.s.Name, k.Name, msg)
		return
	}
}

// width is taskmaster's zero-padding of process numbers: two digits, more
// when numprocs needs them.
func width(n int) int {
	return max(2, len(fmt.Sprint(n-1)))
}

// sortPrograms orders programs as supervisord starts them: by priority,
// then by name.
func sortPrograms(ps []*Program) {
	slices.SortStableFunc(ps, func(a, b *Program) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return strings.Compare(a.Name, b.Name)
	})
}
