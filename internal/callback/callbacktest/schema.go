package callbacktest

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// ValidateEvent checks body, an event as a queue carries it, against
// schema/callback-event.schema.json, the schema that consumers are given.
func ValidateEvent(body []byte) error {
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		schema, schemaErr = c.Compile(filepath.Join(Root(), "schema", "callback-event.schema.json"))
	})
	if schemaErr != nil {
		return schemaErr
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return schema.Validate(v)
}

// CheckEventSchema fails the test unless body fits the event schema.
func CheckEventSchema(t testing.TB, body []byte) {
	t.Helper()
	if err := ValidateEvent(body); err != nil {
		t.Errorf("event %s does not fit the schema: %v", body, err)
	}
}
