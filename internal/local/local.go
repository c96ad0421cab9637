// Package local provides the embedded sinks that need no cloud: objects as
// files under a directory, and events as lines of a JSON Lines file.
package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"smcallbacks/internal/callback"
)

// Store keeps each object's bytes in the file Dir/<key>.
type Store struct {
	dir string
}

var _ callback.ObjectStore = (*Store)(nil)

// NewStore returns a Store under dir, creating dir if needed.
func NewStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Put writes the object to a temporary file and renames it into place, so
// that a reader never sees a partial object and a retry replaces it whole.
func (s *Store) Put(ctx context.Context, obj *callback.Object) error {
	path, err := s.path(obj.Key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := io.Copy(tmp, readerWithContext{ctx, obj.Body}); err != nil {
		tmp.Close()
		return err
	}
	// CreateTemp makes the file private; objects are as readable as the
	// directory that holds them.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// path maps a key to its file, refusing any key that would leave the
// directory. The core builds safe keys; this is the second line of defence.
func (s *Store) path(key string) (string, error) {
	if key == "" || strings.Contains(key, `\`) || !filepath.IsLocal(filepath.FromSlash(key)) {
		return "", fmt.Errorf("unsafe key %q", key)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// readerWithContext stops a copy once its context is done.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// Queue appends each event as one JSON line to a file.
type Queue struct {
	mu   sync.Mutex
	path string
}

var _ callback.EventQueue = (*Queue)(nil)

// NewQueue returns a Queue that appends to the file at path, creating its
// directory if needed.
func NewQueue(path string) (*Queue, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	return &Queue{path: path}, nil
}

// Send appends ev as one line, written and synced in one piece.
func (q *Queue) Send(ctx context.Context, ev *callback.Event) error {
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.OpenFile(q.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var _ callback.StreamingStore = (*Store)(nil)

// Begin starts an object in a temporary file beside its place.
func (s *Store) Begin(ctx context.Context, obj *callback.Object) (callback.Upload, error) {
	path, err := s.path(obj.Key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".put-*")
	if err != nil {
		return nil, err
	}
	return &upload{f: f, path: path}, nil
}

type upload struct {
	f    *os.File
	path string
}

func (u *upload) Write(p []byte) (int, error) { return u.f.Write(p) }

// Complete renames the file into place.
func (u *upload) Complete(context.Context, [32]byte, int64) error {
	for _, step := range []func() error{func() error { return u.f.Chmod(0o644) }, u.f.Sync, u.f.Close} {
		if err := step(); err != nil {
			u.f.Close()
			os.Remove(u.f.Name())
			return err
		}
	}
	return os.Rename(u.f.Name(), u.path)
}

// Abort removes the file.
func (u *upload) Abort(context.Context) error {
	u.f.Close()
	return os.Remove(u.f.Name())
}
