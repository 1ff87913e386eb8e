package xmlrpc

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/master/localsock"
)

// DefaultVersion is what getSupervisorVersion answers unless
// Options.Version says otherwise: supervisor's version this API follows,
// so clients that parse it (Datadog: \d+\.\d+) are content.
const DefaultVersion = "4.2.5-taskmaster"

// bodyTimeout bounds the reading of a request's body.
const bodyTimeout = 30 * time.Second

// Options tune a Server. The zero value is usable.
type Options struct {
	Version        string // getSupervisorVersion; default DefaultVersion
	Identification string // getIdentification; default "supervisor", supervisord's
	// Logf logs refusals (a peer of another uid, a wrong password);
	// level is "WARN". Nil discards them.
	Logf func(level, format string, args ...any)
}

// Auth is HTTP Basic authentication for a TCP listener. Password is the
// plain password, or supervisor's "{SHA}" followed by the hex SHA-1 of it.
type Auth struct {
	Username, Password string
}

// check reports whether the given credentials match, in constant time.
func (a *Auth) check(user, pass string) bool {
	want := a.Password
	if hexsum, ok := strings.CutPrefix(want, "{SHA}"); ok {
		sum := sha1.Sum([]byte(pass))
		pass, want = hex.EncodeToString(sum[:]), strings.ToLower(hexsum)
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(a.Username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(want))
	return u&p == 1
}

// Server serves supervisor's XML-RPC API (POST /RPC2, also /) and its
// log streams (GET /logtail/NAME[/stdout|stderr], GET /mainlogtail) over
// HTTP/1.1 with keep-alive, on any number of listeners.
type Server struct {
	b   Backend
	opt Options

	ctx    context.Context // cancelled by Close: ends waits and streams
	cancel context.CancelFunc

	tableOnce sync.Once
	tab       map[string]*method // built once, then read only

	mu      sync.Mutex // guards servers
	servers []*http.Server
}

// New makes a server answering from b.
func New(b Backend, opt Options) *Server {
	if opt.Version == "" {
		opt.Version = DefaultVersion
	}
	if opt.Identification == "" {
		opt.Identification = "supervisor"
	}
	if opt.Logf == nil {
		opt.Logf = func(string, string, ...any) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{b: b, opt: opt, ctx: ctx, cancel: cancel}
}

// ListenUnix creates the unix socket at path as the ctl socket is made
// (localsock.Listen: a folder only root and this uid control, mode 0600,
// a stale socket of ours replaced). Serve checks each peer's uid.
func ListenUnix(path string) (*net.UnixListener, error) {
	return localsock.Listen("unix", path, "xmlrpc socket")
}

// Serve answers connections from ln until Close. On a unix listener only
// root and the master's uid are served (SO_PEERCRED, as the ctl socket);
// others get 403. With auth, every request must carry its credentials
// (else 401 with supervisor's realm "default"). It returns nil after
// Close.
func (s *Server) Serve(ln net.Listener, auth *Auth) error {
	_, unixSock := ln.(*net.UnixListener)
	hs := &http.Server{
		Handler:           s.handler(unixSock, auth),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ConnContext:       connContext,
		ErrorLog:          nil,
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.servers = append(s.servers, hs)
	s.mu.Unlock()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops every listener and connection, and ends held answers and
// log streams.
func (s *Server) Close() error {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Answers being written (supervisor.shutdown's own) get a moment to
	// reach their client; held answers have ended with s.ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, hs := range s.servers {
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
	}
	return nil
}

type connKey struct{}

// connContext keeps the connection, so a unix peer's credentials can be
// read once per request.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

func (s *Server) handler(unixSock bool, auth *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unixSock && !s.peerAllowed(r) {
			http.Error(w, "permission denied", http.StatusForbidden)
			return
		}
		if auth != nil && !s.authorized(r, auth) {
			w.Header().Set("WWW-Authenticate", `Basic realm="default"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		s.route(w, r)
	})
}

// peerAllowed applies the ctl socket's rule (localsock.PeerAllowed).
func (s *Server) peerAllowed(r *http.Request) bool {
	uc, ok := r.Context().Value(connKey{}).(*net.UnixConn)
	if !ok {
		return false
	}
	cred, err := ipc.PeerCred(uc)
	if err != nil {
		return false
	}
	if !localsock.PeerAllowed(cred) {
		s.opt.Logf("WARN", "xmlrpc: refused uid %d (pid %d)", cred.Uid, cred.Pid)
		return false
	}
	return true
}

// authorized checks Basic credentials; a wrong password (not a missing
// one: clients first try without) is logged.
func (s *Server) authorized(r *http.Request, auth *Auth) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	if auth.check(user, pass) {
		return true
	}
	s.opt.Logf("WARN", "xmlrpc: refused user %q from %s: wrong username or password", user, r.RemoteAddr)
	return false
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/logtail/") || strings.HasPrefix(p, "/mainlogtail"):
		if r.Method != http.MethodGet {
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return
		}
		s.logtail(w, r)
	case p == "/" || strings.HasPrefix(p, "/RPC2"):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		s.rpc(w, r)
	default:
		http.NotFound(w, r)
	}
}

// rpc answers one methodCall. A request that is not one is a 400, as
// supervisor answers; everything else is a 200 with a value or a fault.
func (s *Server) rpc(w http.ResponseWriter, r *http.Request) {
	// A body that trickles in may hold a connection for bodyTimeout at
	// most; the deadline is lifted before the call, which may be held
	// (start with wait) as long as the process takes.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(bodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	rc.SetReadDeadline(time.Time{})
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("request body over %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	call, err := DecodeCall(body)
	if err != nil {
		http.Error(w, "Bad Request: "+err.Error(), http.StatusBadRequest)
		return
	}
	out := s.respond(r.Context(), call.Method, call.Params)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	w.Write(out)
}

// respond runs a call and encodes its answer.
func (s *Server) respond(ctx context.Context, method string, params []any) []byte {
	v, err := s.call(ctx, method, params)
	if err == nil {
		out, err2 := EncodeResponse(v)
		if err2 == nil {
			return out
		}
		err = err2
	}
	return EncodeFault(faultOf(err, ""))
}
