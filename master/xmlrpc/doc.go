// Package xmlrpc is taskmaster's face for supervisor's tools: it serves
// supervisor 4.2's XML-RPC API, version 3.0 (POST /RPC2, also /), and its
// log streams (GET /logtail/NAME[/stdout|stderr], GET /mainlogtail), so
// stock supervisorctl, Ansible's supervisorctl module and dashboards
// (Cesi, Multivisor, Telegraf, Datadog) drive a taskmaster.
//
// It knows nothing of the master: everything it needs comes through the
// Backend interface (typed processes, typed errors), and it makes
// supervisor's shapes from them: the process-info struct, the result
// structs of group operations, the fault codes and texts ("BAD_NAME:
// foo"), supervisor's readFile/tailFile offset rules, and the held answer
// of a start or stop with wait (polled every 50 ms, as supervisor's
// deferred callbacks are).
//
// The codec is written here on encoding/xml. The Go XML-RPC libraries
// (kolo/xmlrpc, alexejk/go-xmlrpc, divan/gorilla-xmlrpc,
// gitlab.com/bboehmke/go-xmlrpc) are clients first, unmaintained or
// reflection-driven; none bounds nesting, refuses DTDs, keeps struct order
// or clamps ints to int32 the way supervisor's clients need, and the whole
// server side is two small files.
//
// Invariants:
//   - a request body is at most MaxBody bytes (413 beyond); values nest
//     at most MaxDepth deep; a DTD or any <!...> declaration is refused,
//     so no entity is ever expanded; a request that is not a methodCall
//     is a 400, as supervisor answers; decoding never panics
//     (FuzzDecodeCall);
//   - an answer never holds <nil/> (Python's client refuses it): absent
//     strings are "" or "none", ints are clamped to int32, and log data
//     that XML 1.0 cannot carry is replaced by U+FFFD;
//   - on a unix socket only root and the master's uid are served
//     (localsock.PeerAllowed on SO_PEERCRED, as the ctl socket); on TCP, with Auth,
//     every request needs HTTP Basic credentials (401 with realm
//     "default"), a wrong password is logged through Options.Logf;
//   - a held answer (start/stop with wait, a log stream) ends when its
//     client leaves or Close is called.
//
// It does not read the config, open listeners on its own, or decide
// anything about processes: the caller passes listeners to Serve, and the
// Backend does the work.
package xmlrpc
