package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"smcallbacks/internal/callback"
)

// Index reads what a Store's directory holds, for the reconciler. The
// directory keeps bytes only: a StoredObject has no Content, Status or
// ContentType, which the reconciler then derives from the key.
type Index struct {
	s *Store
}

// NewIndex returns the Index of the objects under dir, as NewStore(dir)
// writes them.
func NewIndex(dir string) *Index { return &Index{s: &Store{dir: dir}} }

// Exists reports whether a file is at key.
func (x *Index) Exists(ctx context.Context, key string) (bool, error) {
	path, err := x.s.path(key)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.Mode().IsRegular(), nil
}

// Stat reads the file at key and returns its size and SHA-256.
func (x *Index) Stat(ctx context.Context, key string) (*callback.StoredObject, error) {
	path, err := x.s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, callback.ErrNoObject)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, readerWithContext{ctx, f})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return &callback.StoredObject{Key: key, Size: n, SHA256: [32]byte(h.Sum(nil))}, nil
}

// List returns the keys of the files below prefix, leaving out the
// temporary files of writes in progress.
func (x *Index) List(ctx context.Context, prefix string) ([]string, error) {
	dir, err := x.s.path(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return nil, err
	}
	var keys []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return err
		}
		rel, err := filepath.Rel(x.s.dir, path)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	return keys, nil
}

// Blob is one small file, such as the reconciler's state, replaced whole on
// each Save. Its version is the SHA-256 of its bytes. Saves are checked
// against it within one process; two processes saving the same file at
// once (two local reconciler runs) are not kept apart.
type Blob struct {
	path string
	mu   sync.Mutex // makes a Save's check and write one step, within a process
}

// NewBlob returns the Blob at path.
func NewBlob(path string) *Blob { return &Blob{path: path} }

// Load returns the file's bytes and version, or nil and "" when there is no
// file.
func (b *Blob) Load(context.Context) ([]byte, string, error) {
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return data, blobVersion(data), nil
}

func blobVersion(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Save writes data to a temporary file and renames it into place, if the
// file is still at version ("" for no file), else returns
// callback.ErrStale.
func (b *Blob) Save(ctx context.Context, data []byte, version string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, now, err := b.Load(ctx); err != nil {
		return err
	} else if now != version {
		return fmt.Errorf("%s: %w", b.path, callback.ErrStale)
	}
	if err := os.MkdirAll(filepath.Dir(b.path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(b.path), ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), b.path)
}
