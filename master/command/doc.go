// Package command is the command language of taskmaster's shell and of
// `taskmaster ctl`: the words a user types, and the text they get back.
//
// One table (table.go) defines every command: its name and aliases, its
// usage and help, its argument count (checked before it runs), its Tab
// completion (Complete) and the function that runs it on the master's
// typed API. Help, dispatch (Exec), argument errors and completion all
// read that table; nothing else lists commands.
//
// Text is made here only, from the API's values and typed errors, in
// supervisorctl's shapes: `NAME: started`, `NAME: ERROR (not running)`,
// `ERROR (no such process): NAME`. Exec returns ctl's exit code: 1 when a
// command reported an error, else 0; it is computed from the API's
// results, never read back from the text.
//
// Session and LineReader split input into command lines for every shell
// (the master's, ctl's remote one, piped input); a line is bounded by
// MaxLine whatever the input holds.
package command
