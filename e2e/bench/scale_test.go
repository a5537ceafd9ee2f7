package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	levels   = 5
	perLevel = 10
	delay    = "1s"
)

// scaleLab writes the links lab-plugin-s01..s50 to the testkit binary in bin (testkit is
// the stack its argv[0] names) and returns the lab of those 50 stacks: five levels of ten,
// each stack depending on one or two stacks of the level above, each working for delay.
func scaleLab(bin, clusterHCL string) (string, error) {
	var b strings.Builder
	b.WriteString("lab \"scale\" {\n  domain = \"scale.local\"\n}\n\n" + clusterHCL)
	for l := range levels {
		for i := range perLevel {
			name := stackName(l, i)
			if err := os.Symlink("testkit", filepath.Join(bin, "lab-plugin-"+name)); err != nil && !os.IsExist(err) {
				return "", err
			}
			deps := ""
			if l > 0 {
				up := []string{fmt.Sprintf("%q", stackName(l-1, i))}
				if i%2 == 0 {
					up = append(up, fmt.Sprintf("%q", stackName(l-1, (i+1)%perLevel)))
				}
				deps = fmt.Sprintf("  depends_on = [%s]\n", strings.Join(up, ", "))
			}
			fmt.Fprintf(&b, "\nstack %q {\n  delay = %q\n%s}\n", name, delay, deps)
		}
	}
	return b.String(), nil
}

func stackName(level, i int) string { return fmt.Sprintf("s%02d", level*perLevel+i+1) }

// scaleFigures is P6: one testkit stack's cold apply, then the 50 stacks' cold apply with
// --parallelism 10 against depth x that time, their no-op re-apply and their plan. Each
// cold run starts from nothing: the stacks are destroyed after it.
func scaleFigures(one, fifty runner, lab string) []figure {
	cold := func(r runner, args ...string) time.Duration {
		d, _ := r.run(lab, append([]string{"apply"}, args...)...)
		r.run(lab, "destroy", "--yes")
		return d
	}
	progress("one test stack applied cold 5 times, 50 of them 3 times, their no-op and plan 7 times")
	single := medianMS(5, func() time.Duration { return cold(one) })
	coldAll := medianMS(3, func() time.Duration { return cold(fifty, "--parallelism", "10") })
	fifty.run(lab, "apply", "--parallelism", "10")
	noop := medianMS(7, func() time.Duration { d, _ := fifty.run(lab, "apply", "--parallelism", "10"); return d })
	plan := medianMS(7, func() time.Duration { d, _ := fifty.run(lab, "plan"); return d })
	depthTimes := levels * single
	return []figure{
		{name: fmt.Sprintf("P6 cold apply, 50 stacks, depth %d, --parallelism 10", levels), lab: coldAll, unit: "ms", runs: 3,
			goal: 1.2 * depthTimes, peerName: fmt.Sprintf("%d x one stack's cold apply (%.0f ms, 5 runs)", levels, single), peer: depthTimes},
		{name: "P6 no-op re-apply, 50 stacks", lab: noop, unit: "ms", runs: 7, goal: 300},
		{name: "P6 lab plan, 50 stacks", lab: plan, unit: "ms", runs: 7, goal: 200},
	}
}
