# want: 10-duplicate-stack.hcl:5:7: error: Duplicate stack block: Stack "alpha" is already declared at 10-duplicate-stack.hcl:4,1-14.
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {}
stack "alpha" {}
