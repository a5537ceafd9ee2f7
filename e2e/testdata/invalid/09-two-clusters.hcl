# want: 09-two-clusters.hcl:4:1: error: Duplicate cluster block
lab "e2e" {}
cluster "kwok" {}
cluster "kwok" {}
