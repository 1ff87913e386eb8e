// Package pacer paces the garbage collector of a long-lived, mostly idle
// process (the master, each worker) without the collection the runtime
// forces every two minutes.
//
// Go's runtime wakes an idle process for its own timers: sysmon, once a
// minute when nothing runs, and the forced GC (forcegcperiod, 2 min),
// which wakes more threads. The forced GC runs only while GOGC pacing is
// on (runtime gcTrigger.test: gcTriggerTime is false when gcPercent < 0),
// so an idle process reaches the runtime's floor, sysmon alone, only with
// GOGC off (issue 12). GOGC off alone would let the heap grow for ever;
// Start paces by a memory limit instead, recomputed after every
// collection from the heap that survived it, so the next collection comes
// when the heap has grown by the same share GOGC would allow.
//
// Invariants: nothing here runs while the process allocates nothing (the
// recomputation rides on a cleanup that only a collection can trigger);
// the limit is always above what the process uses when it is set, so the
// collector never runs back to back on a heap that does not shrink.
//
// It does not read GOGC or GOMEMLIMIT: the caller decides (see Start).
package pacer
