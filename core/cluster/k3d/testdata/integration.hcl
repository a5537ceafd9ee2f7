# The small cluster of the integration tests; the tests pick free ports and a data_dir.
lab "labit" {
  domain = "labit.test"
}

cluster "k3d" {
  name          = "lab-it"
  agents        = 1
  server_memory = "1g"
  agent_memory  = "1g"
  node_labels   = { "lab.nexolab.io/pool" = "general" }
  k3s_args      = ["--kubelet-arg=max-pods=150@agent:*"]
}

stack "ingress" {}
stack "harbor" {}
