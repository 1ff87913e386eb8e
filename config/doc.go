// Package config turns taskmaster's YAML file into a validated, typed
// Config: the `taskmaster:` section (Global) and one Program per entry of
// `programs:`. It is the only package that reads the file; every other
// package trusts what it returns.
//
// Invariants of a Config returned without error:
//   - it is fully validated: every key known, every value of the right type
//     and range, required keys present, users and groups resolved, the
//     working directory, the folders of log files and of the event log, and
//     the rundir (or the folder to create it in) existing at parse time;
//   - every default is filled in (see Program and Global for the values);
//   - every path in it is absolute and clean, relative ones having been
//     resolved against the config file's folder (Config.Dir);
//   - every Program has NumProcs >= 1 and a non-empty Argv.
//
// Validation never stops at the first problem: Parse returns all of them at
// once, as Errors sorted by position, each naming FILE:LINE:COL and the key
// path, e.g. "taskmaster.yaml:14:17: programs.web.stopsignal: unknown
// signal "SIGFOO"".
//
// The YAML is walked as an AST (github.com/goccy/go-yaml/ast), never
// unmarshalled into structs, to keep the position of every value and the
// literal text of scalars: YAML libraries disagree on whether `022` is 18
// or 22, so umask is read from the text as written.
//
// What the package deliberately does not do: it starts nothing, creates
// and opens nothing (Load reads the config file, Parse only stats paths and
// looks up users and groups), and keeps no state between calls. A missing
// executable is not an error but a warning (Config.Warnings), as in
// supervisor, since it may appear before the program starts.
package config
