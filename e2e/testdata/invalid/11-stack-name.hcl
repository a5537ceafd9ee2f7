# want: 11-stack-name.hcl:4:7: error: Invalid stack name: "Alpha"
lab "e2e" {}
cluster "kwok" {}
stack "Alpha" {}
