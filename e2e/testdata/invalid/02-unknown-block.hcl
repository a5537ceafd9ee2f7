# want: 02-unknown-block.hcl:3:1: error: Unsupported block type: Blocks of type "stacks" are not expected here. Did you mean "stack"?
lab "e2e" {}
stacks "alpha" {}
