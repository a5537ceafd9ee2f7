package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/nexolab/lab/core/sdk"
)

// ErrNotFound means no plugin binary exists for a stack.
var ErrNotFound = errors.New("no plugin found")

var errClosed = errors.New("the plugin host is closed")

// Host launches plugins and keeps track of them so that none outlives it.
type Host struct {
	dirs  []string
	log   hclog.Logger
	cache *cache
	lock  *LockFile

	mu        sync.Mutex
	found     map[string]string
	running   map[string]*Plugin
	launching map[string]*sync.Mutex // one launch at a time per plugin
	sockets   string                 // the folder of the plugins' sockets (privateSocket)
	closed    bool
}

// Options configure a Host.
type Options struct {
	// Dirs is the plugin search path; DefaultDirs when empty.
	Dirs []string
	// CacheFile keeps plugin descriptions between runs; none when empty.
	CacheFile string
	// LockFile, when set, refuses plugins whose checksum differs from it (lockfile.go).
	LockFile *LockFile
	Logger   hclog.Logger
}

// New returns a host over the plugins found in the search path.
func New(opts Options) *Host {
	if len(opts.Dirs) == 0 {
		opts.Dirs = DefaultDirs()
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Host{dirs: opts.Dirs, log: opts.Logger, cache: openCache(opts.CacheFile), lock: opts.LockFile,
		running: map[string]*Plugin{}, launching: map[string]*sync.Mutex{}}
}

// DefaultCacheFile is where descriptions are cached: the user cache folder.
func DefaultCacheFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "lab", "plugins.json")
}

// Found returns the plugin binaries by stack name.
func (h *Host) Found() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.found == nil {
		h.found = Discover(h.dirs)
	}
	return h.found
}

// Path returns the binary of a stack's plugin.
func (h *Host) Path(name string) (string, error) {
	if p := h.Found()[name]; p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%w for stack %q (looked for %s%s in %v)", ErrNotFound, name, Prefix, name, h.dirs)
}

// Describe returns a plugin's Info and Schema, launching it only when the cache has no
// description for its binary's checksum.
func (h *Host) Describe(ctx context.Context, name string) (Description, error) {
	path, err := h.Path(name)
	if err != nil {
		return Description{}, err
	}
	k, err := h.cache.lookup(path)
	if err != nil || k.Cached {
		return k.Desc, err
	}
	p, err := h.Launch(ctx, name)
	if err != nil {
		return Description{}, err
	}
	d := Description{Path: path, SHA256: k.SHA256, Info: p.Info}
	if d.Schema, err = p.Client.Schema(ctx); err != nil {
		return Description{}, fmt.Errorf("plugin %s: schema: %w", name, err)
	}
	h.cache.store(path, k.ID, d)
	return d, nil
}

// Validate runs a plugin's Validate on a decoded config, launching the plugin only when
// the cache has no answer for this binary and this exact request. files is the digest of
// what the config's path attributes point at, so a fixed file is checked anew.
func (h *Host) Validate(ctx context.Context, d Description, req *sdk.Request, files string) (sdk.Diagnostics, error) {
	sum := sha256.New()
	for _, part := range [][]byte{[]byte(d.SHA256), []byte(req.Stack), []byte(req.Lab.Name), []byte(req.Lab.Domain), []byte(req.Lab.DataDir), req.ConfigJSON, []byte(files)} {
		sum.Write(part)
		sum.Write([]byte{0})
	}
	key := hex.EncodeToString(sum.Sum(nil))
	if diags, ok := h.cache.check(key); ok {
		return diags, nil
	}
	p, err := h.Launch(ctx, d.Info.Name)
	if err != nil {
		return nil, err
	}
	diags, err := p.Client.Validate(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: validate: %w", d.Info.Name, err)
	}
	h.cache.storeCheck(key, diags)
	return diags, nil
}

// SaveCache writes new descriptions to the cache file.
func (h *Host) SaveCache() error { return h.cache.save() }

// Plugin is a running plugin process.
type Plugin struct {
	Name   string
	Path   string
	Info   sdk.Info
	Client *sdk.Client
	client *plugin.Client
}

// Pid is the plugin's process id, or 0 when it is not running.
func (p *Plugin) Pid() int {
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Launch starts a stack's plugin, or returns it if it is already running. The binary is
// opened once: the file checked against the lock file is the file that runs (command).
func (h *Host) Launch(ctx context.Context, name string) (*Plugin, error) {
	h.mu.Lock()
	one := h.launching[name]
	if one == nil {
		one = &sync.Mutex{}
		h.launching[name] = one
	}
	h.mu.Unlock()
	one.Lock() // a caller that comes while it starts gets the same process
	defer one.Unlock()
	h.mu.Lock()
	if p := h.running[name]; p != nil && !p.client.Exited() {
		h.mu.Unlock()
		return p, nil
	}
	h.mu.Unlock()
	path, err := h.Path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the plugin has its own copy once started
	k, err := h.cache.lookupFile(path, f)
	if err != nil {
		return nil, err
	}
	if err := h.checkLock(name, path, k.SHA256); err != nil {
		return nil, err
	}
	sockets, err := h.socketDir()
	if err != nil {
		return nil, err
	}
	p, err := launch(ctx, name, path, f, k.SHA256, sockets, h.log.Named(name))
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed { // a launch in flight when the host closed: nothing may outlive it
		go h.end(p)
		return nil, errClosed
	}
	h.running[name] = p
	return p, nil
}

// Stop ends one plugin process.
func (h *Host) Stop(name string) {
	h.mu.Lock()
	p := h.running[name]
	delete(h.running, name)
	h.mu.Unlock()
	if p != nil {
		h.end(p)
	}
}

// Close ends every plugin process this host started.
func (h *Host) Close() {
	h.mu.Lock()
	running, sockets := h.running, h.sockets
	h.running, h.closed = map[string]*Plugin{}, true
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range running {
		wg.Go(func() { h.end(p) })
	}
	wg.Wait()
	if sockets != "" {
		_ = os.RemoveAll(sockets) // what ended plugins left there
	}
}

// socketDir is the folder, mode 0700 and made at the first launch, that every plugin of
// this host puts its Unix socket in, so that no other user can connect to one
// (privateSocket), whatever the umask.
func (h *Host) socketDir() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed { // Close has removed the folder, or will not see this one
		return "", errClosed
	}
	if h.sockets != "" || !privateSocket {
		return h.sockets, nil
	}
	dir, err := os.MkdirTemp("", "lab-plugins-")
	if err != nil {
		return "", fmt.Errorf("plugin sockets: %w", err)
	}
	h.sockets = dir
	return dir, nil
}

// end kills a plugin and logs its peak memory, which make bench reads.
func (h *Host) end(p *Plugin) {
	peak := peakRSS(p.Pid())
	p.client.Kill()
	h.log.Debug("plugin ended", "plugin", p.Name, "peak_rss_kib", peak)
}

func launch(ctx context.Context, name, path string, f *os.File, sum, sockets string, log hclog.Logger) (*Plugin, error) {
	cmd, secure := command(path, f, sum)
	if sockets != "" {
		cmd.Env = []string{plugin.EnvUnixSocketDir + "=" + sockets} // go-plugin adds the host's environment
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			sdk.ProtocolVersion: {sdk.PluginName: &sdk.GRPCPlugin{}},
		},
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         !privateSocket,
		Logger:           log,
		StartTimeout:     startTimeout(ctx),
	})
	p, err := connect(ctx, client)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s (%s): %w", name, path, explain(err))
	}
	p.Name, p.Path = name, path
	return p, nil
}

// privateSocket: go-plugin talks to a plugin over a Unix socket, which the plugin puts in a
// folder of the host's (socketDir, mode 0700), so that only this user can connect to it,
// as only this user can read the host's kubeconfig or its memory. go-plugin's mutual TLS
// would add nothing there, and it was more than half of a launch (one plugin alone: 88 ms
// with it, 22 to 41 without): each side makes a P-521 key and certificate and checks the
// other's, 16 ms of the host's CPU and 28 to 30 of the plugin's per launch. On Windows the
// transport is TCP on localhost, which any local user reaches, and mutual TLS stays.
const privateSocket = runtime.GOOS != "windows"

func connect(ctx context.Context, client *plugin.Client) (*Plugin, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return nil, err
	}
	c := raw.(*sdk.Client)
	info, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	info.Protocol = client.NegotiatedVersion()
	return &Plugin{Info: info, Client: c, client: client}, nil
}

func startTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Second)
	}
	return 30 * time.Second
}

var versionMismatch = regexp.MustCompile(`Plugin version: (\d+), Client versions: \[([\d ]*)\]`)

// explain rewrites go-plugin's start-up errors into what the user should do.
func explain(err error) error {
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		return fmt.Errorf("the binary changed after its checksum was checked: refused (%w)", err)
	}
	if m := versionMismatch.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("plugin speaks protocol version %s, this lab speaks version %s: "+
			"rebuild the plugin against the SDK of this lab release (or use a lab release that speaks version %s)",
			m[1], m[2], m[1])
	}
	return err
}
