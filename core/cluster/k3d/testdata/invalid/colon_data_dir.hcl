lab "nexo" {
  data_dir = "/srv/nexo:data"
}
