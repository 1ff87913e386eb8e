package supervisord

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Env is what an import needs to know about the machine, injectable so
// tests give fixed answers.
type Env struct {
	Environ  []string // KEY=VALUE, as os.Environ: gives %(ENV_KEY)s
	Hostname string   // %(host_node_name)s
	Home     string   // expands a leading ~/ in log file paths; "": left as is
	// Glob lists the files an [include] pattern matches. nil:
	// filepath.Glob. Tests pin it, since Debian's config includes
	// /etc/supervisor/conf.d/*.conf.
	Glob func(pattern string) ([]string, error)
}

// Limits on what an import reads: a supervisor config is small, and a glob
// in [include] must not make it read a whole disk.
const (
	maxFileSize = 1 << 20
	maxIncludes = 1000
)

// importer is the state of one Load.
type importer struct {
	env      Env
	ini      *INI
	main     string // the main file as the caller named it
	here     string // its absolute folder
	environ  Vars   // ENV_X: the machine's, then [supervisord] environment
	errs     []*Error
	warns    []Warning
	display  map[string]string // absolute include path -> name in messages
	files    []string          // names of the files read, in order
	expanded int               // bytes produced by expansions so far
}

// Load reads the supervisor config at path and the files its [include]
// names, and converts them. Problems supervisord itself would refuse the
// config for are returned as Errors (every one found, by file and line);
// settings taskmaster does not honour are Config.Warnings.
func Load(path string, env Env) (*Config, error) {
	here, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	im := &importer{env: env, ini: NewINI(), main: path, here: here, display: map[string]string{}}
	im.environ = Vars{}
	for _, kv := range env.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			im.environ["ENV_"+k] = v
		}
	}
	if err := im.readFile(path); err != nil {
		return nil, Errors{asError(err, &Key{File: path})}
	}
	if im.ini.Section("include") != nil {
		im.includes()
	}
	cfg := im.convert()
	if len(im.errs) > 0 {
		return nil, im.sortedErrors()
	}
	// A value read once per process (a program written as one program per
	// process) warns once per process: the same warning is said once.
	seen := map[Warning]bool{}
	im.warns = slices.DeleteFunc(im.warns, func(w Warning) bool {
		dup := seen[w]
		seen[w] = true
		return dup
	})
	slices.SortStableFunc(im.warns, func(a, b Warning) int {
		return cmp.Or(im.fileIndex(a.File)-im.fileIndex(b.File), a.Line-b.Line)
	})
	cfg.Warnings = im.warns
	return cfg, nil
}

// readFile parses one file into the INI. Only a regular file is read, so
// that a FIFO named by a glob never blocks the import.
func (im *importer) readFile(path string) error {
	name := im.name(path)
	im.files = append(im.files, name)
	data, err := readRegular(path)
	if err != nil {
		return &Error{File: name, Msg: err.Error()}
	}
	return im.ini.Parse(name, data)
}

func readRegular(path string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, nil
}

// name is how a file appears in messages: the main file as given, an
// included one relative to the main file's folder when inside it.
func (im *importer) name(path string) string {
	if n, ok := im.display[path]; ok {
		return n
	}
	return path
}

// includes reads the files [include] files= names, as read_config does:
// each file's %(here)s is replaced by its own folder as it is read, the
// globs are relative to the main file's folder, and their matches are read
// in sorted order. An [include] in an included file is ignored, as by
// supervisord, since the list was read before.
func (im *importer) includes() {
	im.replaceHere(im.here)
	sect := im.ini.Section("include")
	key := im.ini.Lookup(sect, "files")
	if key == nil {
		im.errs = append(im.errs, &Error{File: sect.File, Line: sect.Line, Msg: "[include] section has no files setting"})
		return
	}
	files, err := im.expandText(key.Value, im.withEnviron(Vars{"here": im.here, "host_node_name": im.env.Hostname}))
	if err != nil {
		im.errorAt(key, err)
		return
	}
	count := 0
	for _, pattern := range strings.Fields(files) {
		if !filepath.IsAbs(pattern) { // os.path.join keeps an absolute pattern
			pattern = filepath.Join(im.here, pattern)
		}
		matches := im.visible(pattern)
		if len(matches) == 0 {
			im.warn(key, "include", "files", fmt.Sprintf("no file matches %q", pattern))
			continue
		}
		for _, m := range matches {
			if count++; count > maxIncludes {
				im.errorAt(key, fmt.Errorf("more than %d included files", maxIncludes))
				return
			}
			im.readInclude(key, m)
		}
	}
}

// visible is glob.glob: sorted matches, and "*" does not match a leading
// dot unless the pattern's own name starts with one.
func (im *importer) visible(pattern string) []string {
	glob := im.env.Glob
	if glob == nil {
		glob = filepath.Glob
	}
	matches, _ := glob(pattern)
	dotted := strings.HasPrefix(filepath.Base(pattern), ".")
	var out []string
	for _, m := range matches {
		if dotted || !strings.HasPrefix(filepath.Base(m), ".") {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

func (im *importer) readInclude(key *Key, path string) {
	if rel, err := filepath.Rel(im.here, path); err == nil && !strings.HasPrefix(rel, "..") {
		im.display[path] = filepath.Join(filepath.Dir(im.main), rel)
	}
	before := len(im.ini.Headers)
	if err := im.readFile(path); err != nil {
		im.errs = append(im.errs, asError(err, key))
		return
	}
	for _, h := range im.ini.Headers[before:] {
		if h.Name == "include" {
			im.warns = append(im.warns, Warning{File: h.File, Line: h.Line, Section: "include",
				Msg: "not supported in an included file (ignored, as supervisord does)"})
		}
	}
	im.replaceHere(filepath.Dir(path))
}

// replaceHere is supervisor's expand_here: the text %(here)s in every value
// read so far becomes here, before any other expansion.
func (im *importer) replaceHere(here string) {
	for _, s := range append(im.ini.Sections, im.ini.Defaults) {
		for _, k := range s.Keys {
			k.Value = strings.ReplaceAll(k.Value, "%(here)s", here)
		}
	}
}

// withEnviron adds the ENV_X names to vars (vars wins), as saneget
// combines the parser's expansions with the caller's.
func (im *importer) withEnviron(vars Vars) Vars {
	all := im.environ.clone()
	for k, v := range vars {
		all[k] = v
	}
	return all
}

func asError(err error, key *Key) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{File: key.File, Line: key.Line, Msg: err.Error()}
}

func (im *importer) errorAt(key *Key, err error) {
	im.errs = append(im.errs, &Error{File: key.File, Line: key.Line, Msg: fmt.Sprintf("%s: %v", key.Name, err)})
}

func (im *importer) warn(key *Key, section, name, msg string) {
	im.warns = append(im.warns, Warning{File: key.File, Line: key.Line, Section: section, Key: name, Msg: msg})
}

// Errors is every problem that makes supervisord refuse the config.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string { return errors.Join(es.Unwrap()...).Error() }

// Unwrap exposes each problem to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (im *importer) sortedErrors() Errors {
	es := Errors(im.errs)
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(im.fileIndex(a.File)-im.fileIndex(b.File), a.Line-b.Line)
	})
	return es
}

// fileIndex orders messages by the order their files were read.
func (im *importer) fileIndex(name string) int {
	if i := slices.Index(im.files, name); i >= 0 {
		return i
	}
	return len(im.files)
}
