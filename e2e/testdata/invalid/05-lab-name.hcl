# want: 05-lab-name.hcl:2:5: error: Invalid lab name: "Nexo_1" must start with a lowercase letter
lab "Nexo_1" {}
