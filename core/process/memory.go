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
// process's own binary mapped (pages_linux.go). With the default GOGC alone a plugin's
// heap grows to twice its live set, 17 to 20 MB through an install of argo-cd or
// kube-prometheus-stack with moments at 26 to 28 MB, and the process passes 100 MB. At 32
// MiB the collector runs more often only through those moments (no more CPU than at 40 MiB
// within what make bench can tell), and the heap stays near its goal.
const memoryLimit = 32 << 20

func init() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
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
