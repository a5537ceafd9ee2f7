package hosts

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const lab = "nexo"

// generated is a hosts file made of whole lines; own is the index in parts of an old
// block of the lab, or -1.
type generated struct {
	parts []string
	own   int
	eol   string
}

func (g generated) text(skip bool) string {
	var b strings.Builder
	for i, p := range g.parts {
		if !(skip && i == g.own) {
			b.WriteString(p)
		}
	}
	return b.String()
}

func entries(r *rand.Rand, domain string) []Entry {
	out := make([]Entry, r.IntN(6))
	for i := range out {
		out[i] = Entry{IP: fmt.Sprintf("127.0.%d.%d", r.IntN(3), r.IntN(250)+1), Host: fmt.Sprintf("h%d.%s", i, domain)}
	}
	return out
}

// generate makes a hosts file as people and tools leave them: LF or CRLF, comments, blank
// lines, lines that mention the markers without being them, other tools' blocks, another
// lab's block, maybe an old block of this lab, maybe no final newline.
func generate(r *rand.Rand) generated {
	g := generated{own: -1, eol: []string{"\n", "\r\n"}[r.IntN(2)]}
	line := func(s string) string { return s + g.eol }
	pieces := []func() string{
		func() string { return line("127.0.0.1\tlocalhost") },
		func() string {
			return line(fmt.Sprintf("10.0.%d.%d   nas%d.home nas%d", r.IntN(9), r.IntN(9), r.IntN(9), r.IntN(9)))
		},
		func() string {
			return line("# " + []string{"a comment", "BEGIN lab nexo", "END lab nexo", ""}[r.IntN(4)])
		},
		func() string { return line("") },
		func() string { return line("   \t ") },
		func() string { return line("192.168.1.9 printer # " + begin(lab)) },
		func() string { return line(" " + end(lab)) },
		func() string {
			return line("# BEGIN docker-desktop") + line("127.0.0.1 kubernetes.docker.internal") + line("# END docker-desktop")
		},
		func() string { return render("other", entries(r, "other.local"), g.eol, false) },
		func() string { return render("nexo-staging", entries(r, "staging.local"), g.eol, false) },
	}
	for range r.IntN(12) {
		g.parts = append(g.parts, pieces[r.IntN(len(pieces))]())
	}
	if r.IntN(3) == 0 {
		g.own = r.IntN(len(g.parts) + 1)
		old := render(lab, entries(r, "old.local"), g.eol, false)
		g.parts = append(g.parts[:g.own], append([]string{old}, g.parts[g.own:]...)...)
	}
	if n := len(g.parts); n > 0 && r.IntN(3) == 0 {
		g.parts[n-1] = strings.TrimSuffix(g.parts[n-1], g.eol) // no final newline
	}
	return g
}

func sortedEntries(es []Entry) []Entry {
	out := append([]Entry(nil), es...)
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// Over many generated files: sync then remove gives back the same bytes (less an old block
// of the lab, which sync replaces); sync writes exactly the entries, is idempotent, keeps
// every byte outside the block and leaves other blocks alone.
func TestSyncThenRemoveGivesTheSameBytes(t *testing.T) {
	const files = 1000
	r := rand.New(rand.NewPCG(11, 2026))
	dir := t.TempDir()
	for i := range files {
		g := generate(r)
		src := g.text(false)
		p := filepath.Join(dir, fmt.Sprintf("hosts-%d", i))
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
		fail := func(format string, args ...any) {
			t.Fatalf("file %d %q: "+format, append([]any{i, src}, args...)...)
		}
		otherBefore, _, err := Show(p, "other")
		require.NoError(t, err)

		want := entries(r, "nexo.local")
		if _, err := Sync(p, lab, want); err != nil {
			fail("sync: %v", err)
		}
		got, found, err := Show(p, lab)
		if err != nil || !found || fmt.Sprint(got) != fmt.Sprint(sortedEntries(want)) {
			fail("show after sync: %v %v %v, want %v", got, found, err, sortedEntries(want))
		}
		synced := read(t, p)
		if g.own >= 0 {
			before := strings.Join(g.parts[:g.own], "")
			after := strings.Join(g.parts[g.own+1:], "")
			if !strings.HasPrefix(synced, before) || !strings.HasSuffix(synced, after) {
				fail("sync changed bytes outside the block: %q", synced)
			}
		} else if !strings.HasPrefix(synced, src) {
			fail("sync changed the file's bytes: %q", synced)
		}
		if changed, err := Sync(p, lab, want); err != nil || changed {
			fail("second sync changed %v: %v", changed, err)
		}
		if otherAfter, _, _ := Show(p, "other"); fmt.Sprint(otherAfter) != fmt.Sprint(otherBefore) {
			fail("another lab's block changed: %v -> %v", otherBefore, otherAfter)
		}
		if _, err := Remove(p, lab); err != nil {
			fail("remove: %v", err)
		}
		if got, want := read(t, p), g.text(true); got != want {
			fail("remove gave %q, want %q", got, want)
		}
	}
	t.Logf("%d generated hosts files: sync, show, re-sync and remove each", files)
}

// A sync killed at any moment leaves the old file or the new one, never a torn one:
// a child process rewrites the block in a loop until it is SIGKILLed, while this test
// reads the file; then the file is checked again.
func TestKilledSyncNeverTearsTheFile(t *testing.T) {
	if p := os.Getenv("LAB_HOSTS_SYNC_LOOP"); p != "" {
		syncForever(p)
	}
	const rounds = 40
	p := filepath.Join(t.TempDir(), "hosts")
	require.NoError(t, os.WriteFile(p, []byte(system), 0o644))
	valid := map[string]bool{system: true, system + Block(lab, big(3000)): true, system + Block(lab, big(1500)): true}
	r := rand.New(rand.NewPCG(7, 7))
	reads := 0
	for range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledSyncNeverTearsTheFile$")
		cmd.Env = append(os.Environ(), "LAB_HOSTS_SYNC_LOOP="+p)
		require.NoError(t, cmd.Start())
		stop := time.Now().Add(time.Duration(20+r.IntN(200)) * time.Millisecond)
		for time.Now().Before(stop) {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.True(t, valid[string(b)], "a reader saw a torn file (%d bytes)", len(b))
			reads++
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		require.True(t, valid[read(t, p)], "the killed sync left a torn file")
	}
	t.Logf("%d syncs killed at random moments, %d reads during them: always whole", rounds, reads)
}

func syncForever(p string) {
	for i := 0; ; i++ {
		if _, err := Sync(p, lab, big(1500*(1+i%2))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// big is a block of n entries, so that a write takes long enough to be killed midway.
func big(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{IP: "127.0.0.1", Host: fmt.Sprintf("service-%05d.nexo.local", i)}
	}
	return out
}
