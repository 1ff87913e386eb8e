package pacer

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// held is what the memory limit counts: total minus released.
func held() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// TestStart plays a process that allocates garbage for a while, then
// idles: GOGC pacing is off (so the runtime forces no collection every
// 2 minutes), yet collections come as the heap grows, the limit follows
// the live heap after each, and the memory held stays bounded.
func TestStart(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	Start(25, 1<<20)
	if old := debug.SetGCPercent(-1); old != -1 {
		t.Fatalf("GOGC after Start = %d; want -1 (off)", old)
	}
	first := debug.SetMemoryLimit(-1)
	if first == math.MaxInt64 {
		t.Fatal("Start set no memory limit")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs := ms.NumGC
	live := make([][]byte, 64) // 4 MiB kept
	for i := range live {
		live[i] = make([]byte, 64<<10)
	}
	peak := uint64(0)
	sink := 0
	for i := range 4096 { // 256 MiB of garbage
		b := make([]byte, 64<<10)
		b[i%len(b)] = 1
		sink += len(b)
		peak = max(peak, held())
	}
	runtime.ReadMemStats(&ms)
	if ms.NumGC-gcs < 10 {
		t.Fatalf("%d collections for 256 MiB of garbage", ms.NumGC-gcs)
	}
	// Live 4 MiB, growth 1 MiB (25% of 4), plus the runtime's own and
	// fragmentation: far below what no collection would hold.
	if peak > 32<<20 {
		t.Fatalf("held %d MiB at peak with 4 MiB live", peak>>20)
	}
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) == first {
		if time.Now().After(deadline) {
			t.Fatal("the limit was not recomputed after a collection")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("peak held %.1f MiB, %d collections", float64(peak)/(1<<20), ms.NumGC-gcs)
	runtime.KeepAlive(live)
}
