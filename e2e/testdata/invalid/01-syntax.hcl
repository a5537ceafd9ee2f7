# want: 01-syntax.hcl:2:11: error: Unclosed configuration block: There is no closing brace for this block before the end of the file.
lab "e2e" {
  domain = "e2e.local"
