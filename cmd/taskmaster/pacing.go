package main

import (
	"os"

	"github.com/taskmaster/taskmaster/worker/pacer"
)

// paceGC gives the master GOGC=100's pacing (4 MiB of growth at least)
// without the collection the runtime forces every 2 minutes, so an idle
// master wakes only for sysmon, once a minute (issue 12). A GOGC or
// GOMEMLIMIT set by the user is theirs to keep.
func paceGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	pacer.Start(100, 4<<20)
}
