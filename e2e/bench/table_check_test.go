package bench

import (
	"strings"
	"testing"
)

// The table marks a figure over its goal, or under its ratio goal, as missed, and the
// misses' lines say by how much; medians are the middle value, not the mean.
func TestTableMarksMisses(t *testing.T) {
	figs := []figure{
		{name: "slow", lab: 215, unit: "ms", runs: 7, goal: 100},
		{name: "few x", lab: 1000, unit: "ms", runs: 7, peerName: "helm", peer: 16400, minRatio: 50},
		{name: "fine", lab: 50, unit: "ms", runs: 7, goal: 100, peerName: "helm", peer: 16400, minRatio: 50},
		{name: "no goal", lab: 37, unit: "ms", runs: 7},
	}
	for f, want := range map[int]string{0: "NO", 1: "NO", 2: "yes", 3: "-"} {
		if got := figs[f].met(); got != want {
			t.Errorf("%s: met = %q, want %q", figs[f].name, got, want)
		}
	}
	var b strings.Builder
	printMisses(&b, figs)
	for _, want := range []string{"- slow: 215 ms, 115 ms over its goal of 100 ms (2.1x)", "- few x: peer/lab 16.4x (peer: helm), under its goal of 50x"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("misses lack %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "fine") || strings.Contains(b.String(), "no goal") {
		t.Errorf("a met figure is listed as missed:\n%s", b.String())
	}
	b.Reset()
	printMisses(&b, figs[2:])
	if b.String() != "Every goal is met.\n" {
		t.Errorf("with no miss, the misses say %q", b.String())
	}
	if m := median([]float64{9, 1, 2}); m != 2 {
		t.Errorf("median of 9, 1, 2 = %v", m)
	}
	if m := median([]float64{4, 1, 100, 2}); m != 3 {
		t.Errorf("median of 4, 1, 100, 2 = %v", m)
	}
}
