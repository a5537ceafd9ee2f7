# want: 08-provider.hcl:3:9: error: Unknown cluster provider: "kind" is not a cluster provider; use one of k3d, existing, kwok. Did you mean "k3d"?
lab "e2e" {}
cluster "kind" {}
