package pacer

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Start turns GOGC pacing off and paces collections by a memory limit
// instead: the next collection comes when the memory the runtime holds
// has grown by percent of the live heap, and by at least minGrowth bytes
// (GOGC's own floor is 4 MiB × GOGC/100). It lasts for the life of the
// process.
func Start(percent int, minGrowth uint64) {
	p := &pace{percent: uint64(max(percent, 0)), minGrowth: minGrowth}
	debug.SetGCPercent(-1)
	p.set()
	p.arm()
}

type pace struct {
	percent   uint64
	minGrowth uint64
	samples   []metrics.Sample
}

// names are the runtime/metrics set reads. The memory limit counts
// total minus released.
var names = [...]string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
}

// sentinel is the object whose cleanup runs after each collection. It
// holds a pointer so that it is never a tiny allocation (tiny objects are
// batched, and a cleanup on one may never run).
type sentinel struct {
	_ *int
	_ [16]byte
}

// arm attaches the next recomputation to a fresh garbage object: the
// first collection finds it unreachable and queues the cleanup.
func (p *pace) arm() {
	runtime.AddCleanup(new(sentinel), func(p *pace) { p.set(); p.arm() }, p)
}

// set places the limit the collector works to: the memory the runtime
// holds now, less the free heap pages and the dead objects not yet swept,
// plus the growth allowed on the live heap. Before the first collection
// the live heap is unknown: every object counts as live. Free pages are
// left out so the scavenger returns them as the process nears the limit.
func (p *pace) set() {
	if p.samples == nil {
		p.samples = make([]metrics.Sample, len(names))
		for i, n := range names {
			p.samples[i].Name = n
		}
	}
	metrics.Read(p.samples)
	var v [len(names)]uint64
	for i := range v {
		v[i] = p.samples[i].Value.Uint64()
	}
	total, released, free, objects, live := v[0], v[1], v[2], v[3], v[4]
	if live == 0 || live > objects {
		live = objects
	}
	used := total - released - free - (objects - live)
	limit := used + max(live/100*p.percent, p.minGrowth)
	debug.SetMemoryLimit(int64(min(limit, math.MaxInt64)))
}
