lab "nexo" {
  data_dir = "/var/lib/lab-test/nexo"
}

cluster "k3d" {
  http_port = 70000
}
