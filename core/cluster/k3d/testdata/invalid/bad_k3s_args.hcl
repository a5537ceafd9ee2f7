lab "nexo" {
  data_dir = "/var/lib/lab-test/nexo"
}

cluster "k3d" {
  k3s_args = ["--disable=metrics-server@nodes:1"]
}
