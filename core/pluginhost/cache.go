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
// trusted while the file's identity (identify) stays the same; within a run it is kept by
// identity too, so the links of a multi-call binary are read once between them.
type cache struct {
	file    string
	mu      sync.Mutex
	entries map[string]cacheEntry // by path
	sums    map[fileID]string
	// checks are Validate's answers by binary checksum and config hash.
	checks map[string]sdk.Diagnostics
	dirty  bool
}

// cacheFormat changes whenever the cached types do, so an older cache is rebuilt.
const cacheFormat = 6

// maxChecks bounds the remembered Validate answers; past it the oldest set is dropped whole.
const maxChecks = 512

type cacheFile struct {
	Format  int                        `json:"format"`
	Entries map[string]cacheEntry      `json:"entries"`
	Checks  map[string]sdk.Diagnostics `json:"checks,omitempty"`
}

// fileID is what identify reads of a file (proc_*.go).
type fileID struct {
	Dev, Ino             uint64
	Size, ModTime, Ctime int64
}

type cacheEntry struct {
	ID   fileID
	Desc Description
}

// known is what the cache knows of one opened plugin file.
type known struct {
	ID     fileID
	SHA256 string
	Desc   Description
	Cached bool // Desc is the file's description
}

func openCache(file string) *cache {
	c := &cache{file: file, entries: map[string]cacheEntry{}, sums: map[fileID]string{}, checks: map[string]sdk.Diagnostics{}}
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

// lookup opens path and returns what the cache knows of it.
func (c *cache) lookup(path string) (known, error) {
	f, err := os.Open(path)
	if err != nil {
		return known{}, err
	}
	defer f.Close()
	return c.lookupFile(path, f)
}

// lookupFile returns what the cache knows of the opened file at path, reading the file
// for its checksum only when neither the file nor its identity is known.
func (c *cache) lookupFile(path string, f *os.File) (known, error) {
	st, err := f.Stat()
	if err != nil {
		return known{}, err
	}
	k := known{ID: identify(st)}
	c.mu.Lock()
	e, ok := c.entries[path]
	k.SHA256 = c.sums[k.ID]
	c.mu.Unlock()
	if ok && e.ID == k.ID {
		return known{ID: k.ID, SHA256: e.Desc.SHA256, Desc: e.Desc, Cached: true}, nil
	}
	if k.SHA256 == "" {
		if k.SHA256, err = checksum(f); err != nil {
			return known{}, err
		}
		c.mu.Lock()
		c.sums[k.ID] = k.SHA256
		c.mu.Unlock()
	}
	if ok && e.Desc.SHA256 == k.SHA256 {
		c.store(path, k.ID, e.Desc) // touched but unchanged: refresh its identity
		return known{ID: k.ID, SHA256: k.SHA256, Desc: e.Desc, Cached: true}, nil
	}
	return k, nil
}

func (c *cache) store(path string, id fileID, d Description) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[path] = cacheEntry{ID: id, Desc: d}
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

// checksum reads an opened file whole, from its start.
func checksum(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
