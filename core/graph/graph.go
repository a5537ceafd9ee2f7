// Package graph orders stacks by their dependencies: waves of stacks that can run in
// parallel, and cycles reported with their path.
package graph

import (
	"fmt"
	"sort"
	"strings"
)

// Graph maps each node to the nodes it depends on.
type Graph map[string][]string

// MissingError names a dependency that is not a node of the graph.
type MissingError struct{ From, To string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("stack %q depends on %q, which is not enabled", e.From, e.To)
}

// CycleError holds a dependency cycle, first node repeated at the end.
type CycleError struct{ Path []string }

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Path, " -> ")
}

// Check reports the first missing dependency or cycle.
func (g Graph) Check() error {
	for _, n := range g.nodes() {
		for _, d := range g[n] {
			if _, ok := g[d]; !ok {
				return &MissingError{From: n, To: d}
			}
		}
	}
	if c := g.cycle(); c != nil {
		return &CycleError{Path: c}
	}
	return nil
}

// Waves returns the nodes in dependency order, grouped so that every node of a wave
// depends only on nodes of earlier waves. Names within a wave are sorted.
func (g Graph) Waves() ([][]string, error) {
	if err := g.Check(); err != nil {
		return nil, err
	}
	level := map[string]int{}
	var depth func(string) int
	depth = func(n string) int {
		if l, ok := level[n]; ok {
			return l
		}
		l := 0
		for _, d := range g[n] {
			l = max(l, depth(d)+1)
		}
		level[n] = l
		return l
	}
	var waves [][]string
	for _, n := range g.nodes() {
		l := depth(n)
		for len(waves) <= l {
			waves = append(waves, nil)
		}
		waves[l] = append(waves[l], n)
	}
	return waves, nil
}

// Order returns the nodes in dependency order (wave by wave).
func (g Graph) Order() ([]string, error) {
	waves, err := g.Waves()
	var out []string
	for _, w := range waves {
		out = append(out, w...)
	}
	return out, err
}

// Dependents returns every node that depends on n, directly or not.
func (g Graph) Dependents(n string) []string {
	var out []string
	for _, m := range g.nodes() {
		if m != n && g.reaches(m, n, map[string]bool{}) {
			out = append(out, m)
		}
	}
	return out
}

func (g Graph) reaches(from, to string, seen map[string]bool) bool {
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, d := range g[from] {
		if d == to || g.reaches(d, to, seen) {
			return true
		}
	}
	return false
}

func (g Graph) nodes() []string {
	out := make([]string, 0, len(g))
	for n := range g {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// cycle returns a cycle as a path, or nil; depth-first with the path on a stack.
func (g Graph) cycle() []string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(string) []string
	visit = func(n string) []string {
		state[n] = onPath
		path = append(path, n)
		deps := append([]string(nil), g[n]...)
		sort.Strings(deps)
		for _, d := range deps {
			switch state[d] {
			case onPath:
				for i, p := range path {
					if p == d {
						return append(append([]string(nil), path[i:]...), d)
					}
				}
			case unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range g.nodes() {
		if state[n] == unvisited {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}
