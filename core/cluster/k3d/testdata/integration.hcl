# The small cluster of the integration test; the test picks free ports and a data_dir.
lab "labit" {
  domain = "labit.test"
}

cluster "k3d" {
  name          = "lab-it"
  agents        = 1
  server_memory = "1g"
  agent_memory  = "1g"
}

stack "ingress" {}
stack "harbor" {}
