// Command lab-plugin-logging is the logging stack of lab: Elasticsearch, Kibana and
// Filebeat through the ECK operator, with every container's logs in app-* and k8s-*.
package main

import "github.com/nexolab/lab/core/sdk"

func main() { sdk.Serve(New) }
