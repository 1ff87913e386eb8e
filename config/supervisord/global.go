package supervisord

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/taskmaster/taskmaster/config"
)

// convert turns the merged INI into taskmaster's terms, section by section
// in supervisord's own order: [supervisord] first (its environment feeds
// every program's), then the programs, then the servers.
func (im *importer) convert() *Config {
	cfg := &Config{Source: im.main}
	var globalEnv []EnvVar
	if s := im.ini.Section("supervisord"); s != nil {
		globalEnv = im.supervisord(cfg, s)
	}
	groups := im.groups()
	for _, s := range im.ini.Sections {
		kind, _, _ := strings.Cut(s.Name, ":")
		switch {
		case kind == "program" && strings.Contains(s.Name, ":"):
			cfg.Programs = append(cfg.Programs, im.program(s, groups, globalEnv)...)
		case s.Name == "unix_http_server":
			im.unixServer(cfg, s)
		case s.Name == "inet_http_server":
			im.inetServer(cfg, s)
		default:
			im.otherSection(s)
		}
	}
	sortPrograms(cfg.Programs)
	return cfg
}

// sectionNotes says what becomes of the sections that are not converted.
var sectionNotes = map[string]string{
	"supervisorctl":  "not converted (supervisorctl's own settings: point its serverurl at taskmaster.xmlrpc and it drives taskmaster)",
	"eventlistener":  "not supported (the event listener pool is not started)",
	"fcgi-program":   "not supported (the FastCGI program is not started; run it as a program with its own socket)",
	"rpcinterface":   "not supported (taskmaster serves supervisor's XML-RPC API only; this plugin is not loaded)",
	"ctlplugin":      "not supported (supervisorctl plugins are not loaded)",
	"group":          "not supported (each program stays its own group; start and stop its programs by name)",
	"include":        "",
	"supervisord":    "",
	"unknown":        "unknown section: ignored, as by supervisord",
	"rpcinterface:s": "",
}

func (im *importer) otherSection(s *Section) {
	kind, _, _ := strings.Cut(s.Name, ":")
	if s.Name == "rpcinterface:supervisor" {
		kind = "rpcinterface:s" // the standard API, served built in
	}
	note, ok := sectionNotes[kind]
	if !ok || kind == "program" {
		note = sectionNotes["unknown"]
	}
	if note != "" {
		im.warns = append(im.warns, Warning{File: s.File, Line: s.Line, Section: s.Name, Msg: note})
	}
}

// supervisordNotes is what becomes of [supervisord]'s keys that have no
// taskmaster equivalent.
var supervisordNotes = map[string]string{
	"logfile_maxbytes": "not supported (taskmaster does not rotate its event log; use logrotate)",
	"logfile_backups":  "not supported (taskmaster does not rotate its event log; use logrotate)",
	"loglevel":         "not supported (the event log records every event)",
	"pidfile":          "not supported (the master's pid is in RUNDIR/taskmaster.pid)",
	"nodaemon":         "not supported (taskmaster never daemonizes: run it with --no-shell under systemd or in the background)",
	"silent":           "not supported (use --no-shell to leave the terminal alone)",
	"minfds":           "not needed (taskmaster raises its descriptor limit to the hard limit itself, and `taskmaster check` warns when that is too low)",
	"minprocs":         "not supported (no limit is raised; set it in the service manager)",
	"nocleanup":        "not supported (there are no AUTO log files to clean)",
	"childlogdir":      "not supported (AUTO logs are not written to files)",
	"user":             "not supported (taskmaster runs as the user who starts it; set user per program)",
	"umask":            "not supported (taskmaster keeps the umask it is started with; set umask per program)",
	"directory":        "not supported (taskmaster does not change its folder; set workingdir per program)",
	"strip_ansi":       "not supported (output is logged as the program writes it)",
	"identifier":       "not supported (getIdentification answers taskmaster's own)",
	"environment":      "",
	"logfile":          "",
}

// supervisord maps [supervisord] and returns its environment, which
// supervisord puts under every program's own.
func (im *importer) supervisord(cfg *Config, s *Section) []EnvVar {
	vars := Vars{"here": im.here}
	for _, k := range im.ini.Keys(s) {
		note, known := supervisordNotes[k.Name]
		switch {
		case !known:
			im.unknownKey(s, k)
		case (k.Name == "nodaemon" || k.Name == "silent") && isTrue(k.Value) == (k.Name == "nodaemon"):
			// nodaemon=true, silent=false: what taskmaster does anyway.
		case note != "":
			im.warn(k, s.Name, k.Name, note)
		}
	}
	if k := im.ini.Lookup(s, "logfile"); k != nil {
		if v, ok := im.expand(k, im.withEnviron(vars)); ok {
			cfg.Global.LogFile = im.path(k, s.Name, v, true)
		}
	}
	k := im.ini.Lookup(s, "environment")
	if k == nil {
		return nil
	}
	v, ok := im.expand(k, im.withEnviron(Vars{"here": im.here, "host_node_name": im.env.Hostname}))
	if !ok {
		return nil
	}
	env, err := ParseEnvironment(v)
	if err != nil {
		im.errorAt(k, err)
		return nil
	}
	for _, e := range env {
		im.environ["ENV_"+e.Name] = e.Value
	}
	return env
}

// unixServer maps [unix_http_server] to taskmaster.xmlrpc.
func (im *importer) unixServer(cfg *Config, s *Section) {
	for _, k := range im.ini.Keys(s) {
		switch k.Name {
		case "file":
			if v, ok := im.expand(k, im.withEnviron(Vars{"here": im.here})); ok {
				cfg.Global.XMLRPC = im.path(k, s.Name, strings.TrimFunc(v, isPySpace), false)
			}
		case "chmod":
			if m, err := octal(k.Value); err != nil || m != 0o700 {
				im.warn(k, s.Name, k.Name, "not supported (the socket is mode 0600; only root and taskmaster's user may connect)")
			}
		case "chown":
			im.warn(k, s.Name, k.Name, "not supported (the socket belongs to taskmaster's user; only root and that user may connect)")
		case "username", "password":
			im.warn(k, s.Name, k.Name, "not supported (the peer's uid is checked instead: root and taskmaster's user may connect)")
		default:
			im.unknownKey(s, k)
		}
	}
	if cfg.Global.XMLRPC == "" {
		im.errs = append(im.errs, &Error{File: s.File, Line: s.Line, Msg: "section [unix_http_server] has no file value"})
	}
}

// inetServer maps [inet_http_server] to taskmaster.inet.
func (im *importer) inetServer(cfg *Config, s *Section) {
	inet := &Inet{}
	var portKey *Key
	for _, k := range im.ini.Keys(s) {
		v, ok := im.expand(k, im.environ)
		if !ok {
			continue
		}
		switch k.Name {
		case "port":
			portKey = k
			inet.Listen = v
		case "username":
			inet.Username = v
		case "password":
			inet.Password = v
		default:
			im.unknownKey(s, k)
		}
	}
	if portKey == nil {
		im.errs = append(im.errs, &Error{File: s.File, Line: s.Line, Msg: "section [inet_http_server] has no port value"})
		return
	}
	if (inet.Username == "") != (inet.Password == "") {
		im.errs = append(im.errs, &Error{File: s.File, Line: s.Line, Msg: "section [inet_http_server] contains incomplete authentication: give both username and password, or neither"})
		return
	}
	host, port, err := inetAddress(inet.Listen)
	if err != nil {
		im.errorAt(portKey, err)
		return
	}
	inet.Listen = net.JoinHostPort(host, port)
	if inet.Username == "" && !config.Loopback(host) {
		inet.Listen = net.JoinHostPort("127.0.0.1", port)
		im.warn(portKey, s.Name, "port", fmt.Sprintf("not supported without username and password on a non-loopback address (listens on %s only)", inet.Listen))
	}
	cfg.Global.Inet = inet
}

// inetAddress is supervisor's inet_address: "[host:]port", host "" or "*"
// meaning every interface.
func inetAddress(s string) (host, port string, err error) {
	p := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, p = strings.ToLower(s[:i]), s[i+1:]
	}
	n, err := integer(p)
	if err != nil || n < 1 || n > 0xffff {
		return "", "", fmt.Errorf("%w: not a valid port number: %q", ErrBadValue, s)
	}
	if host == "*" {
		host = ""
	}
	return strings.Trim(host, "[]"), fmt.Sprint(n), nil
}

// expand expands k's value, recording an error naming k on failure.
func (im *importer) expand(k *Key, vars Vars) (string, bool) {
	v, err := im.expandText(k.Value, vars)
	if err != nil {
		im.errorAt(k, err)
		return "", false
	}
	return v, true
}

// path makes a path absolute. supervisord resolves a relative path against
// its own working directory, which the import cannot know: the folder of
// the file that holds the key (what %(here)s would say) is the likeliest,
// and the user is told.
func (im *importer) path(k *Key, section, p string, tilde bool) string {
	if tilde && im.env.Home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		p = filepath.Join(im.env.Home, p[1:])
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	abs := filepath.Join(im.dirOf(k.File), p)
	im.warn(k, section, k.Name, fmt.Sprintf("relative path resolved against the folder of %s (supervisord resolves it against its working directory): %s", k.File, abs))
	return abs
}

// dirOf is the absolute folder of a file named in messages.
func (im *importer) dirOf(name string) string {
	for abs, n := range im.display {
		if n == name {
			return filepath.Dir(abs)
		}
	}
	return im.here
}

func isTrue(s string) bool {
	b, err := boolean(s)
	return err == nil && b
}

// unknownKey warns about a key supervisord does not read in s. A [DEFAULT]
// key is every section's: it is unknown only where it is written.
func (im *importer) unknownKey(s *Section, k *Key) {
	if s.Get(k.Name) == k {
		im.warn(k, s.Name, k.Name, "unknown key: ignored, as by supervisord")
	}
}

// maxExpanded bounds the text all expansions of one import produce: a
// width such as %(process_num)9999d times numprocs=10000 must not make
// the import (or the YAML) gigabytes long.
const maxExpanded = 16 << 20

// expandText is Expand, counted against maxExpanded.
func (im *importer) expandText(s string, vars Vars) (string, error) {
	v, err := Expand(s, vars)
	if err != nil {
		return "", err
	}
	if im.expanded += len(v); im.expanded > maxExpanded {
		return "", fmt.Errorf("%w: the expanded values exceed %d bytes in all", ErrFormat, maxExpanded)
	}
	return v, nil
}
