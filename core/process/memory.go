package process

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"time"
)

// memoryLimit is the soft limit of the Go runtime's memory in every lab process, the host
// and each first-party plugin, unless $GOMEMLIMIT sets another. lab aims at each process
// under 80 MB resident (make bench), and 35 to 50 MB of that, at an install's peak, is the
// process's own binary mapped (pages_linux.go). A plugin's live heap reaches 26 to 28 MB
// while Helm renders argo-cd or kube-prometheus-stack: there the limit binds, and with the
// default GOGC alone the process passes 100 MB.
//
// Unless $GOGC is set, the collector is off (the limit alone starts a collection) while
// packages initialise and, in the host, throughout: initialisation allocates 10 MB from a
// 4 MB first goal, and collecting through it was a third of the CPU of a no-op apply and
// of a plugin's launch. A plugin turns GOGC=100 back on once it starts (Collect).
const memoryLimit = 32 << 20

// gcOff: this package turned the collector off.
var gcOff bool

func init() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimit)
	if gcOff = os.Getenv("GOGC") == ""; gcOff {
		debug.SetGCPercent(-1)
	}
}

// Collect turns the collector back on at GOGC=100 where init turned it off. A plugin's
// main calls it: through an install a heap at twice the live set stays below the limit
// most of the time, where with the limit alone every plugin held 4 to 8 MB more at its
// peak (make bench). The host, which holds little for long, keeps the limit alone.
func Collect() {
	if gcOff {
		debug.SetGCPercent(100)
	}
}

// LAB_HEAPPROFILE=DIR makes every lab process (the host and each first-party plugin)
// write DIR/<name>-<pid>.heap whenever its heap reaches a new high, so a peak can be read
// with `go tool pprof` after the process ends, however it ends. A diagnostic for the
// memory figures of make bench; off unless set.
func init() {
	if dir := os.Getenv("LAB_HEAPPROFILE"); dir != "" {
		go profileHeapPeaks(filepath.Join(dir, filepath.Base(os.Args[0])+"-"+strconv.Itoa(os.Getpid())+".heap"))
	}
}

func profileHeapPeaks(path string) {
	var peak uint64
	var ms runtime.MemStats
	for range time.Tick(50 * time.Millisecond) {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse <= peak+peak/10 {
			continue
		}
		peak = ms.HeapInuse
		f, err := os.Create(path + ".tmp")
		if err != nil {
			return
		}
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if f.Close() == nil && err == nil {
			_ = os.Rename(path+".tmp", path)
		}
	}
}
