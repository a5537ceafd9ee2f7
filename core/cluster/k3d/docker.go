package k3d

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/docker/cli/cli/command"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/flags"
	dockerclient "github.com/docker/docker/client"
	"github.com/spf13/pflag"
)

// ErrNoDocker is the error of every operation attempted without a reachable Docker engine.
var ErrNoDocker = errors.New("the Docker engine is not reachable")

// dockerTimeout bounds one question to the engine (ping, info, inspect).
const dockerTimeout = 5 * time.Second

// engine connects to the Docker engine exactly as k3d will (DOCKER_HOST, DOCKER_CONTEXT,
// the docker CLI's current context) and makes sure it answers, so that nothing starts
// against an engine that is not there. It must run before any k3d call: k3d's own client
// setup exits the process when the endpoint cannot be resolved.
func engine(ctx context.Context) (dockerclient.APIClient, error) {
	opts := flags.NewClientOptions()
	fs := pflag.NewFlagSet("docker", pflag.ContinueOnError)
	opts.InstallFlags(fs)
	opts.SetDefaultOptions(fs)
	cli, err := command.NewAPIClientFromFlags(opts, dockerconfig.LoadDefaultConfigFile(io.Discard))
	if err != nil {
		return nil, noDocker("", err)
	}
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		host := cli.DaemonHost()
		_ = cli.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", dockerTimeout)
		}
		return nil, noDocker(host, err)
	}
	return cli, nil
}

// noDocker says where the engine was looked for and how to fix it: a laptop without Docker
// running is the most common first failure.
func noDocker(host string, cause error) error {
	env := os.Getenv("DOCKER_HOST")
	var where string
	switch {
	case env != "":
		// For ssh:// hosts the client's own address is a placeholder.
		host, where = env, "(from DOCKER_HOST)"
	case host == "" || host == dockerclient.DefaultDockerHost:
		host, where = dockerclient.DefaultDockerHost, "(DOCKER_HOST is not set, so the default socket was tried)"
	default:
		where = "(DOCKER_HOST is not set; this is the docker CLI's current context)"
	}
	detail := ""
	// The client's own connection error repeats the address; other causes are worth showing.
	if cause != nil && !dockerclient.IsErrConnectionFailed(cause) {
		detail = ": " + cause.Error()
	}
	return fmt.Errorf("%w at %s %s%s. Start Docker (Docker Desktop, colima or the docker service) or set DOCKER_HOST to a running engine",
		ErrNoDocker, host, where, detail)
}

// engineInfo is what preflight needs to know of the engine.
type engineInfo struct {
	Host     string
	Version  string
	CPUs     int
	MemBytes int64
}

func info(ctx context.Context, cli dockerclient.APIClient) (engineInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	i, err := cli.Info(ctx)
	if err != nil {
		return engineInfo{}, fmt.Errorf("docker info: %w", err)
	}
	return engineInfo{Host: cli.DaemonHost(), Version: i.ServerVersion, CPUs: i.NCPU, MemBytes: i.MemTotal}, nil
}
