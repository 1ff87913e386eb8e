// Package ctl is the control socket that `taskmaster ctl` talks to: a unix
// SOCK_SEQPACKET socket of mode 0600, in a folder only root and the
// master's uid control (localsock.OpenFolder), serving only root and the
// master's own uid (SO_PEERCRED; others get one refusal line, logged).
//
// Each connection carries one ipc.Request: a command line of the command
// language (master/command), answered with ipc.Output packets and an
// ipc.Done with the exit code; or, for `attach NAME` from a terminal, the
// connection itself is handed to the job's worker. The client's leaving
// (EOF) ends a command that follows (tail -f, events).
//
// A Control is a master.Face: master.Serve makes it through
// ServeOptions.Faces, serves it and closes it (removing the socket).
package ctl
