// Package logging is the logging stack of lab: Elasticsearch, Kibana and Filebeat through
// the ECK operator, with every container's logs in app-* and k8s-*. It runs as the plugin
// lab-plugin-logging, built into lab-plugins.
package logging
