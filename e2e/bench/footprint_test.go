package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// footprintFigure is the install footprint: what `make build` puts in bin/ (lab and every
// first-party plugin), on disk, each file counted once however many names link to it.
// The peer is a bin/ built the old way, one binary per plugin, when $LAB_BENCH_OLD_BIN
// names one (make build of a checkout from before the multi-call binary).
func footprintFigure(b *testing.B, root, dir string) figure {
	progress("make build")
	cmd := exec.Command("make", "build", "BIN="+dir)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("make build: %v\n%s", err, out)
	}
	f := figure{name: "install footprint: make build's bin/ (lab + 6 plugins) on disk", lab: diskMiB(b, dir), unit: "MiB", runs: 1, goal: 150}
	if old := os.Getenv("LAB_BENCH_OLD_BIN"); old != "" {
		f.peerName, f.peer = "one binary per plugin ($LAB_BENCH_OLD_BIN)", diskMiB(b, old)
	}
	return f
}

// diskMiB is du of a folder's files: allocated blocks, a hard or symbolic link's target
// counted once (symbolic links themselves take no block for a short target).
func diskMiB(b *testing.B, dir string) float64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	seen := map[[2]uint64]bool{}
	var blocks int64
	for _, e := range entries {
		st, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		s := st.Sys().(*syscall.Stat_t)
		if id := [2]uint64{s.Dev, s.Ino}; !seen[id] {
			seen[id] = true
			blocks += s.Blocks
		}
	}
	if blocks == 0 {
		b.Fatalf("nothing on disk in %s", dir)
	}
	return float64(blocks*512) / (1 << 20)
}
