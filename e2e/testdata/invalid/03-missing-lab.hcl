# want: 03-missing-lab.hcl:1:1: error: Missing lab block: The file needs one lab "<name>" block
stack "alpha" {}
