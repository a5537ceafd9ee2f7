package bench

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runner runs programs in a folder with an environment; any failure ends the bench.
type runner struct {
	b   *testing.B
	dir string
	env []string
}

// run returns the wall time of a program and its peak RSS in MiB. The kernel reports the
// largest of the process and the children it waited for, so a figure for a lab command
// that launches no plugin is the host's own.
func (r runner) run(name string, args ...string) (time.Duration, float64) {
	d, rss, _, _ := r.output(name, args...)
	return d, rss
}

// output is run with the program's standard output and error.
func (r runner) output(name string, args ...string) (time.Duration, float64, []byte, []byte) {
	r.b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = r.dir, r.env, &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		r.b.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), lastLines(stderr.String(), 40))
	}
	return elapsed, kibToMiB(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss), stdout.Bytes(), stderr.Bytes()
}

func kibToMiB(kib int64) float64 { return float64(kib) / 1024 }

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// pluginEnded is the host's debug line as a plugin process ends, with its peak RSS.
var pluginEnded = regexp.MustCompile(`plugin ended: plugin=(\S+) peak_rss_kib=(\d+)`)

// pluginPeaks reads each plugin's peak RSS (KiB) from a host's debug log, the largest
// when a plugin ran more than once.
func pluginPeaks(log []byte) map[string]int64 {
	peaks := map[string]int64{}
	for _, m := range pluginEnded.FindAllSubmatch(log, -1) {
		kib, _ := strconv.ParseInt(string(m[2]), 10, 64)
		peaks[string(m[1])] = max(peaks[string(m[1])], kib)
	}
	return peaks
}
