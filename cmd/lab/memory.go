package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

// LAB_HEAPPROFILE=DIR makes every lab process (the host and each built-in plugin, which are
// this binary) write DIR/<name>-<pid>.heap whenever its heap reaches a new high, so a peak
// can be read with `go tool pprof` after the process ends, however it ends. A diagnostic
// for issue 14's memory figures; off unless set.
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
