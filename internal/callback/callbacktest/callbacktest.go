// Package callbacktest helps test the callback service and its front doors:
// in-memory sinks, the fixtures, and the sample events with what the receiver
// should do with each.
package callbacktest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"

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
