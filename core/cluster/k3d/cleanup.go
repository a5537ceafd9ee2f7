package k3d

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	dockerclient "github.com/docker/docker/client"
	k3dclient "github.com/k3d-io/k3d/v5/pkg/client"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
)

// removeCluster deletes everything of the cluster: k3d's own delete for the nodes it knows,
// then whatever Docker still holds under the cluster's label or k3d's names for it. k3d
// finds a cluster by its nodes, so a create that failed before its first node (an image
// that cannot be pulled) leaves a network and a volume that k3d's delete cannot see.
func (p *Provider) removeCluster(ctx context.Context) error {
	c, err := p.get(ctx)
	if err != nil {
		return err
	}
	var deleteErr error
	if c != nil {
		deleteErr = k3dclient.ClusterDelete(ctx, runtimes.Docker, c, k3dtypes.ClusterDeleteOpts{SkipRegistryCheck: true})
	}
	cli, err := engine(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	return errors.Join(deleteErr, p.sweep(ctx, cli))
}

// sweep removes the containers and volumes labelled with the cluster's name and the network
// and image volume k3d names after it.
func (p *Provider) sweep(ctx context.Context, cli dockerclient.APIClient) error {
	byCluster := filters.NewArgs(filters.Arg("label", k3dtypes.LabelClusterName+"="+p.cfg.Name))
	var errs []error
	containers, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: byCluster})
	errs = append(errs, err)
	// k3d checks the node image in a throwaway container, which a cancelled create leaves.
	checks, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("ancestor", p.cfg.Image), filters.Arg("status", "exited"))})
	errs = append(errs, err)
	for _, c := range checks {
		if strings.Contains(c.Command, "/sys/devices/system/edac") {
			containers = append(containers, c)
		}
	}
	for _, c := range containers {
		errs = append(errs, ignoreNotFound(cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})))
	}
	netName := p.networkName()
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", netName))})
	errs = append(errs, err)
	for _, n := range nets {
		if n.Name == netName {
			errs = append(errs, ignoreNotFound(cli.NetworkRemove(ctx, n.ID)))
		}
	}
	vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: byCluster})
	errs = append(errs, err)
	names := map[string]bool{p.imageVolumeName(): true}
	for _, v := range vols.Volumes {
		names[v.Name] = true
	}
	for name := range names {
		errs = append(errs, ignoreNotFound(cli.VolumeRemove(ctx, name, true)))
	}
	return errors.Join(errs...)
}

func (p *Provider) networkName() string     { return "k3d-" + p.cfg.Name }
func (p *Provider) imageVolumeName() string { return "k3d-" + p.cfg.Name + "-images" }

func ignoreNotFound(err error) error {
	if dockerclient.IsErrNotFound(err) {
		return nil
	}
	return err
}

// ensureDir creates dir if needed and returns the topmost folder it created ("" if dir
// existed), which a failed create removes again.
func ensureDir(dir string) (string, error) {
	existing, err := nearestExisting(dir)
	if err != nil {
		return "", fmt.Errorf("data_dir: %w", err)
	}
	if existing == filepath.Clean(dir) {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("data_dir: %w", err)
	}
	rel, _ := filepath.Rel(existing, dir)
	top, _, _ := strings.Cut(rel, string(filepath.Separator))
	return filepath.Join(existing, top), nil
}

var (
	pullFailed = regexp.MustCompile(`failed to pull (?:the )?image '([^']+)'`)
	portTaken  = regexp.MustCompile(`(?:Bind for |listen tcp[46]? )[^ ]*:(\d+)[: ].*(?:port is already allocated|address already in use)`)
	k3dStep    = []struct{ prefix, step string }{
		{"Failed Cluster Preparation", "preparing the cluster's network and image volume"},
		{"failed Cluster Creation", "creating the node containers"},
		{"failed to ensure tools node", "starting k3d's tools container"},
		{"failed to gather environment", "inspecting the Docker host"},
		{"Failed Cluster Start", "starting the nodes"},
	}
)

// explainCreate turns k3d's error of a failed create into one line that names the step,
// the image or port concerned, and what to do; k3d's own words follow.
func (p *Provider) explainCreate(err error) error {
	msg := err.Error()
	step := "creating the cluster"
	for _, s := range k3dStep {
		if strings.HasPrefix(msg, s.prefix) {
			step = s.step
			break
		}
	}
	var advice string
	switch {
	case errors.Is(err, context.Canceled):
		advice = "interrupted before it finished"
	case errors.Is(err, errTimeout):
		advice = fmt.Sprintf("the nodes did not become ready in time: `docker logs %s` shows why", p.serverName())
	case pullFailed.MatchString(msg):
		image := pullFailed.FindStringSubmatch(msg)[1]
		advice = fmt.Sprintf("Docker has no image %s and could not pull it: pull it (`docker pull %s`) or load it (`docker load`) on this machine, or give Docker a registry mirror it can reach (registry-mirrors in its daemon.json)", image, image)
	case portTaken.MatchString(msg):
		port := portTaken.FindStringSubmatch(msg)[1]
		advice = fmt.Sprintf("host port %s is already taken: free it or set %s in the cluster block", port, p.portAttr(port))
	case strings.Contains(msg, "Cannot connect to the Docker daemon") || strings.Contains(msg, "connection refused"):
		advice = "the Docker engine stopped answering: start Docker and run lab apply again"
	}
	if advice == "" {
		return fmt.Errorf("%s: %w", step, err)
	}
	return fmt.Errorf("%s: %s (k3d: %w)", step, advice, err)
}

func (p *Provider) serverName() string { return "k3d-" + p.cfg.Name + "-server-0" }

func (p *Provider) portAttr(port string) string {
	switch port {
	case fmt.Sprint(p.cfg.HTTPPort):
		return "http_port"
	case fmt.Sprint(p.cfg.HTTPSPort):
		return "https_port"
	case fmt.Sprint(p.cfg.APIPort):
		return "api_port"
	}
	return "the port"
}
