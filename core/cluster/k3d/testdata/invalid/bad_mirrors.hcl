lab "nexo" {
  data_dir = "/var/lib/lab-test/nexo"
}

cluster "k3d" {
  mirrors = { "docker.io" = ["ftp://mirror.example"] }
}
