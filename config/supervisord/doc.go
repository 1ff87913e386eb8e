// Package supervisord converts a supervisor config (supervisord.conf and
// the files its [include] names) into taskmaster's terms, for
// `taskmaster import`. It reads the INI the way supervisord 4.2 does
// (Python 3's RawConfigParser with inline comments, then supervisor's
// options.py): ini.go is the parser, expand.go the %-expansions, shlex.go
// the command and environment tokenizers, values.go the value types of
// datatypes.py, global.go and program.go the sections, yaml.go the writer.
//
// Invariants:
//   - whatever supervisord refuses (a syntax error, a bad value, a name
//     that cannot be expanded) is an Error naming FILE:LINE, and no Config
//     is returned; every such error in the files is reported at once;
//   - whatever supervisord accepts is converted: a setting taskmaster
//     cannot honour is a Warning naming FILE:LINE, the section and the key,
//     and what happens instead; nothing is dropped silently;
//   - every value is expanded as supervisord expands it, once per process
//     (%(program_name)s, %(process_num)02d, %(group_name)s, %(here)s,
//     %(ENV_X)s, %(host_node_name)s, %%), so the commands, environments and
//     files are the ones supervisord would use;
//   - WriteYAML writes a file taskmaster's config package accepts for the
//     keys it knows, and a program's command as an argv that taskmaster's
//     splitter gives back word for word.
//
// What it deliberately does not do: it runs nothing, writes nothing but
// the YAML it is asked for, and checks nothing on the machine that
// `taskmaster check` checks (folders, users); it reads only regular files
// of at most 1 MiB, at most 1000 of them, and its expansions may produce
// at most 16 MiB in all (a width times numprocs could otherwise ask for
// gigabytes).
package supervisord
