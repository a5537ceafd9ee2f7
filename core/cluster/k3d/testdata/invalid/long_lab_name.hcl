lab "a-very-long-lab-name-for-k3d" {
  data_dir = "/var/lib/lab-test/long"
}
