module github.com/taskmaster/taskmaster

go 1.26.8

require (
	github.com/creack/pty v1.1.24
	github.com/goccy/go-yaml v1.19.2
	github.com/vmihailenco/msgpack/v5 v5.4.1
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

require github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
