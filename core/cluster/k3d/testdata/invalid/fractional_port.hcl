lab "nexo" {
  data_dir = "/var/lib/lab-test/nexo"
}

cluster "k3d" {
  api_port = 6550.5
}
