// Package callbacktest helps test the callback service and its front doors:
// in-memory sinks, the fixtures, and the sample events with what the receiver
// should do with each.
package callbacktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"testing"

	"smcallbacks/internal/callback"
)

// StoredObject is an object as a Store received it.
type StoredObject struct {
	callback.Object
	Bytes []byte
}

// Store keeps objects in memory. Err, when set, fails every Put; PutHook,
// when set, runs before each Put and may fail it.
type Store struct {
	mu      sync.Mutex
	objects map[string]StoredObject
	Err     error
	PutHook func(ctx context.Context, obj *callback.Object) error

	begun, aborted int
}

var _ callback.ObjectStore = (*Store)(nil)

// Put reads the object and keeps it, checking that the bytes match the
// object's size and hash as a real store's checksum would.
func (s *Store) Put(ctx context.Context, obj *callback.Object) error {
	if s.PutHook != nil {
		if err := s.PutHook(ctx, obj); err != nil {
			return err
		}
	}
	if s.Err != nil {
		return s.Err
	}
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		return err
	}
	if int64(len(b)) != obj.Size || sha256.Sum256(b) != obj.SHA256 {
		return fmt.Errorf("%s: body does not match its size and SHA-256", obj.Key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects == nil {
		s.objects = map[string]StoredObject{}
	}
	o := *obj
	o.Body = nil
	s.objects[obj.Key] = StoredObject{Object: o, Bytes: b}
	return nil
}

// Objects returns the stored objects by key.
func (s *Store) Objects() map[string]StoredObject {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]StoredObject, len(s.objects))
	for k, v := range s.objects {
		m[k] = v
	}
	return m
}

// Queue keeps events in memory. Err, when set, fails every Send.
type Queue struct {
	mu     sync.Mutex
	events []*callback.Event
	Err    error
}

var _ callback.EventQueue = (*Queue)(nil)

// Send keeps ev.
func (q *Queue) Send(ctx context.Context, ev *callback.Event) error {
	if q.Err != nil {
		return q.Err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.events = append(q.events, ev)
	return nil
}

// Events returns the events sent so far.
func (q *Queue) Events() []*callback.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]*callback.Event(nil), q.events...)
}

var _ callback.StreamingStore = (*Store)(nil)

// Begin starts an upload held in memory until Complete, which checks the
// size and hash it is given against the bytes written.
func (s *Store) Begin(ctx context.Context, obj *callback.Object) (callback.Upload, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	s.mu.Lock()
	s.begun++
	s.mu.Unlock()
	o := *obj
	return &upload{store: s, obj: &o}, nil
}

// Aborted counts the uploads begun and then aborted.
func (s *Store) Aborted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aborted
}

type upload struct {
	store *Store
	obj   *callback.Object
	buf   bytes.Buffer
}

func (u *upload) Write(p []byte) (int, error) { return u.buf.Write(p) }

func (u *upload) Complete(ctx context.Context, sum [32]byte, size int64) error {
	if u.store.PutHook != nil {
		if err := u.store.PutHook(ctx, u.obj); err != nil {
			return err
		}
	}
	if int64(u.buf.Len()) != size || sha256.Sum256(u.buf.Bytes()) != sum {
		return fmt.Errorf("%s: upload does not match its size and SHA-256", u.obj.Key)
	}
	u.obj.Size, u.obj.SHA256 = size, sum
	u.store.mu.Lock()
	defer u.store.mu.Unlock()
	if u.store.objects == nil {
		u.store.objects = map[string]StoredObject{}
	}
	u.store.objects[u.obj.Key] = StoredObject{Object: *u.obj, Bytes: u.buf.Bytes()}
	return nil
}

func (u *upload) Abort(context.Context) error {
	u.store.mu.Lock()
	defer u.store.mu.Unlock()
	u.store.aborted++
	return nil
}

// Permutations returns every order of s.
func Permutations[T any](s []T) [][]T {
	if len(s) <= 1 {
		return [][]T{append([]T(nil), s...)}
	}
	var all [][]T
	for i := range s {
		rest := append(append([]T(nil), s[:i]...), s[i+1:]...)
		for _, p := range Permutations(rest) {
			all = append(all, append([]T{s[i]}, p...))
		}
	}
	return all
}

// NewService returns callback.New(c), failing t on an error.
func NewService(t testing.TB, c callback.Config) *callback.Service {
	t.Helper()
	svc, err := callback.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// SyncBuffer is a bytes.Buffer that may be written by several goroutines,
// or a process's output, while the test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
