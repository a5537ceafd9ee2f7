# The ingress stack is disabled, so k3s keeps its bundled Traefik; labels in k3d's list form.
lab "solo" {
  data_dir = "/data/solo"
}

cluster "k3d" {
  agents      = 0
  node_labels = ["tier=edge@server:0", "zone=a"]
}

stack "ingress" {
  enabled    = false
  controller = "nginx"
}
