package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// figure is one row of the table: lab's median beside its goal and the peer measured in
// the same run. A goal of 0 is none; minRatio is the least peer/lab the goal asks for.
type figure struct {
	name     string
	lab      float64
	unit     string // "ms" or "MiB"
	runs     int
	goal     float64 // lab at most this
	peerName string
	peer     float64
	minRatio float64
}

// met says whether the figure meets its goals: "-" when it has none.
func (f figure) met() string {
	if f.goal == 0 && f.minRatio == 0 {
		return "-"
	}
	if (f.goal > 0 && f.lab > f.goal) || (f.minRatio > 0 && f.ratio() < f.minRatio) {
		return "NO"
	}
	return "yes"
}

func (f figure) ratio() float64 { return f.peer / f.lab }

func printTable(w io.Writer, figs []figure) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "| figure\t| lab (median)\t| runs\t| goal\t| peer (same run)\t| peer/lab\t| met\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|---\t|")
	for _, f := range figs {
		goal, peer, ratio := "-", "-", "-"
		if f.goal > 0 {
			goal = "<= " + amount(f.goal, f.unit)
		}
		if f.peerName != "" {
			peer = f.peerName + ": " + amount(f.peer, f.unit)
			ratio = fmt.Sprintf("%.1fx", f.ratio())
		}
		if f.minRatio > 0 {
			ratio += fmt.Sprintf(" (goal >= %gx)", f.minRatio)
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %d\t| %s\t| %s\t| %s\t| %s\t|\n", f.name, amount(f.lab, f.unit), f.runs, goal, peer, ratio, f.met())
	}
	tw.Flush()
}

// printMisses writes one line per figure that misses a goal, saying by how much, or that
// every goal is met.
func printMisses(w io.Writer, figs []figure) {
	var lines []string
	for _, f := range figs {
		if f.goal > 0 && f.lab > f.goal {
			lines = append(lines, fmt.Sprintf("- %s: %s, %s over its goal of %s (%.1fx)", f.name, amount(f.lab, f.unit),
				amount(f.lab-f.goal, f.unit), amount(f.goal, f.unit), f.lab/f.goal))
		}
		if f.minRatio > 0 && f.ratio() < f.minRatio {
			lines = append(lines, fmt.Sprintf("- %s: peer/lab %.1fx (peer: %s), under its goal of %gx", f.name, f.ratio(), f.peerName, f.minRatio))
		}
	}
	if len(lines) == 0 {
		fmt.Fprintln(w, "Every goal is met.")
		return
	}
	fmt.Fprintln(w, "Missed goals:\n"+strings.Join(lines, "\n"))
}

func amount(v float64, unit string) string {
	if unit == "ms" && v >= 1000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

// medianMS is the median of n runs of f, in milliseconds.
func medianMS(n int, f func() time.Duration) float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = ms(f())
	}
	return median(v)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	v = slices.Sorted(slices.Values(v))
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// progress says on stderr what the bench is doing: a run takes minutes.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// machine describes where the figures were taken.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	goVersion, _ := exec.Command("go", "version").Output()
	return fmt.Sprintf("%d CPUs (nproc), %s, %s", runtime.NumCPU(), model, strings.TrimSpace(string(goVersion)))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}
