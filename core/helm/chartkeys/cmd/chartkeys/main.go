// Command chartkeys writes the key list of a chart folder (values.yaml and, when present,
// values.schema.json) for package chartkeys: chartkeys DIR > keys/NAME-VERSION.keys
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nexolab/lab/core/helm/chartkeys"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chartkeys CHART_DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	values, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	schema, _ := os.ReadFile(filepath.Join(dir, "values.schema.json")) // optional
	keys, err := chartkeys.Extract(values, schema)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("# key paths of %s: derived from its values.yaml and values.schema.json\n", filepath.Base(dir))
	for _, k := range keys {
		fmt.Println(k)
	}
}
