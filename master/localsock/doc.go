// Package localsock makes the master's local sockets (the ctl socket, the
// XML-RPC socket) and the folders they and the rundir live in.
//
// Invariants:
//   - a folder is used only after safepath's walk from / proved that no
//     user but root and the master's uid can change where it leads
//     (OpenFolder);
//   - a socket is created in such a folder, replaces only a stale socket
//     of the master's uid, and is made mode 0600 through its descriptor,
//     never through its path (Listen);
//   - a peer is served only if it is root or the master's uid
//     (PeerAllowed, checked on SO_PEERCRED), whatever the socket's mode.
//
// It does not speak any protocol: the ctl server and the XML-RPC server
// each read and write their own connections.
package localsock
