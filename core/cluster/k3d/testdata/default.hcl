# No cluster block: the architecture's k3d cluster with every default.
lab "nexo" {
  domain   = "nexo.local"
  data_dir = "/var/lib/lab-test/nexo"
}
