# want: 04-two-labs.hcl:3:1: error: Duplicate lab block
lab "one" {}
lab "two" {}
