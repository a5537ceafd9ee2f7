package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"sync"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/core/sdk"
)

// Description is what a plugin says of itself: cached so that validate launches nothing.
type Description struct {
	Path   string
	SHA256 string
	Info   sdk.Info
	Schema []sdk.Attribute
}

// cache keeps descriptions by binary checksum in one JSON file. The checksum of a path is
// trusted while the file's size and modification time stay the same.
type cache struct {
	file    string
	mu      sync.Mutex
	entries map[string]cacheEntry // by path
	// checks are Validate's answers by binary checksum and config hash.
	checks map[string]sdk.Diagnostics
	dirty  bool
}

// cacheFormat changes whenever the cached types do, so an older cache is rebuilt.
const cacheFormat = 5

// maxChecks bounds the remembered Validate answers; past it the oldest set is dropped whole.
const maxChecks = 512

type cacheFile struct {
	Format  int                        `json:"format"`
	Entries map[string]cacheEntry      `json:"entries"`
	Checks  map[string]sdk.Diagnostics `json:"checks,omitempty"`
}

type cacheEntry struct {
	Size    int64
	ModTime int64
	Desc    Description
}

func openCache(file string) *cache {
	c := &cache{file: file, entries: map[string]cacheEntry{}, checks: map[string]sdk.Diagnostics{}}
	if file == "" {
		return c
	}
	var f cacheFile
	if b, err := os.ReadFile(file); err == nil && json.Unmarshal(b, &f) == nil && f.Format == cacheFormat {
		c.entries, c.checks = f.Entries, f.Checks // anything else (broken, older) is rebuilt
	}
	if c.entries == nil {
		c.entries = map[string]cacheEntry{}
	}
	if c.checks == nil {
		c.checks = map[string]sdk.Diagnostics{}
	}
	return c
}

// lookup returns the cached description of path, with the binary's checksum.
func (c *cache) lookup(path string) (Description, string, bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Description{}, "", false, err
	}
	c.mu.Lock()
	e, ok := c.entries[path]
	c.mu.Unlock()
	if ok && e.Size == st.Size() && e.ModTime == st.ModTime().UnixNano() {
		return e.Desc, e.Desc.SHA256, true, nil
	}
	sum, err := checksum(path)
	if err != nil {
		return Description{}, "", false, err
	}
	if ok && e.Desc.SHA256 == sum {
		c.store(path, e.Desc) // touched but unchanged: refresh the stat fields
		return e.Desc, sum, true, nil
	}
	return Description{}, sum, false, nil
}

func (c *cache) store(path string, d Description) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[path] = cacheEntry{Size: st.Size(), ModTime: st.ModTime().UnixNano(), Desc: d}
	c.dirty = true
}

func (c *cache) check(key string) (sdk.Diagnostics, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.checks[key]
	return d, ok
}

func (c *cache) storeCheck(key string, d sdk.Diagnostics) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.checks) >= maxChecks {
		c.checks = map[string]sdk.Diagnostics{}
	}
	if d == nil {
		d = sdk.Diagnostics{} // a remembered "no problems" is not a missing entry
	}
	c.checks[key] = d
	c.dirty = true
}

// save writes the cache atomically when it changed.
func (c *cache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty || c.file == "" {
		return nil
	}
	b, err := json.Marshal(cacheFile{Format: cacheFormat, Entries: c.entries, Checks: c.checks})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(c.file, b, 0o644); err != nil {
		return err
	}
	c.dirty = false
	return nil
}

func checksum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
