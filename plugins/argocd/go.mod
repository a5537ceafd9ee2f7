module github.com/nexolab/lab/plugins/argocd

go 1.26.0

require github.com/nexolab/lab/core v0.0.0

replace github.com/nexolab/lab/core => ../../core
