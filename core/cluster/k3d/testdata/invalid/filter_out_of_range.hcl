lab "nexo" {
  data_dir = "/var/lib/lab-test/nexo"
}

cluster "k3d" {
  agents   = 1
  k3s_args = ["--node-taint=x=y:NoSchedule@agent:3"]
}
