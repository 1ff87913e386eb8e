// Command tm-worker is the worker entry as a standalone binary, for
// debugging. taskmaster normally re-execs itself as tm-worker instead.
package main

import "github.com/taskmaster/taskmaster/worker"

func main() { worker.Main() }
