package config

import (
	"net"
	"strings"
)

// Inet is `taskmaster.inet`: supervisor's XML-RPC API over TCP (off
// unless set). A listen address that is not loopback needs Username and
// Password, so the API is never open to the network unauthenticated.
type Inet struct {
	Listen   string // host:port, as net.Listen takes it
	Username string // "" with Password "": no authentication (loopback only)
	Password string // plain, or supervisor's "{SHA}" and the hex SHA-1
}

var inetFields = []field[*Inet]{
	{"listen", func(d *decoder, i *Inet, v value) { set(d.str(v))(&i.Listen) }},
	{"username", func(d *decoder, i *Inet, v value) { set(d.str(v))(&i.Username) }},
	{"password", func(d *decoder, i *Inet, v value) { set(d.str(v))(&i.Password) }},
}

// xmlrpcSocket reads `taskmaster.xmlrpc`: a path, or `none` for no
// socket ("").
func (d *decoder) xmlrpcSocket(g *Global, v value) {
	s, ok := d.str(v)
	if !ok {
		return
	}
	if strings.EqualFold(s, "none") {
		g.XMLRPC = ""
		return
	}
	if p, ok := d.checkPath(v, s); ok {
		g.XMLRPC = p
	}
}

// inet reads `taskmaster.inet`; null leaves it off.
func (d *decoder) inet(g *Global, v value) {
	entries, ok := d.mapping(v, true)
	if !ok || entries == nil {
		return
	}
	in := &Inet{}
	byKey := decodeFields(d, in, entries, inetFields)
	e, ok := byKey["listen"]
	if !ok {
		d.errorf(v.node, v.path, "listen: missing key (an address like 127.0.0.1:9001)")
		return
	}
	host, _, err := net.SplitHostPort(in.Listen)
	if err != nil {
		d.errorf(e.val.node, e.val.path, "expected host:port like 127.0.0.1:9001, got %q", in.Listen)
		return
	}
	if (in.Username == "") != (in.Password == "") {
		d.errorf(v.node, v.path, "username and password go together: set both or neither")
		return
	}
	if in.Username == "" && !Loopback(host) {
		d.errorf(e.val.node, e.val.path, "%s is reachable from other hosts: set username and password, or listen on 127.0.0.1", in.Listen)
		return
	}
	g.Inet = in
}

// Loopback reports whether a listen host only accepts connections from
// this machine: a loopback IP, or "localhost". An empty host is every
// interface. `taskmaster import` uses it too, so what it writes is what
// taskmaster.inet accepts.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
