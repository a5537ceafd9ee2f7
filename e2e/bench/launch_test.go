package bench

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nexolab/lab/core/pluginhost"
)

// launchFigure is P3: the six first-party plugins launched at once (handshake and the
// first call, Info), each time by a fresh host, beside one plugin launched alone.
func launchFigure(b *testing.B, bin string) figure {
	const n = 7
	progress("six plugins launched at once, and one alone, %d runs each", n)
	cache := filepath.Join(b.TempDir(), "plugins.json")
	describe(b, bin, cache)
	all := medianMS(n, func() time.Duration { return launch(b, bin, cache, stacks...) })
	one := medianMS(n, func() time.Duration { return launch(b, bin, cache, "ingress") })
	return figure{name: "P3 six plugins launched cold in parallel (handshake + Info)", lab: all, unit: "ms", runs: n, goal: 250,
		peerName: "one plugin alone", peer: one}
}

// describe fills a plugin cache as lab's first validate does, so that a launch finds each
// binary known (no checksum read), as in any later lab command.
func describe(b *testing.B, bin, cache string) {
	h := pluginhost.New(pluginhost.Options{Dirs: []string{bin}, CacheFile: cache})
	defer h.Close()
	for _, s := range stacks {
		_, err := h.Describe(context.Background(), s)
		must(b, err)
	}
	must(b, h.SaveCache())
}

func launch(b *testing.B, bin, cache string, names ...string) time.Duration {
	h := pluginhost.New(pluginhost.Options{Dirs: []string{bin}, CacheFile: cache})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	start := time.Now()
	for i, name := range names {
		wg.Go(func() { _, errs[i] = h.Launch(ctx, name) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return elapsed
}
