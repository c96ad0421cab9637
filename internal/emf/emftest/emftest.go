// Package emftest finds the embedded metric format records in a function's
// output and checks each against the specification: its structure against
// schema/emf.schema.json, and what a schema cannot say (every dimension and
// metric a directive names is a member of the root, of the right type) in
// code.
package emftest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"smcallbacks/internal/callback/callbacktest"
)

// Record is one EMF record, as decoded JSON.
type Record map[string]any

// Metric returns the value of the metric named name, and whether the record
// defines that metric in one of its directives.
func (r Record) Metric(name string) (any, bool) {
	for _, d := range r.directives() {
		for _, m := range d.Metrics {
			if m.Name == name {
				return r[name], true
			}
		}
	}
	return nil, false
}

// Dimensions returns the dimension sets under which the record defines
// the metric named name.
func (r Record) Dimensions(name string) [][]string {
	for _, d := range r.directives() {
		for _, m := range d.Metrics {
			if m.Name == name {
				return d.Dimensions
			}
		}
	}
	return nil
}

type directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []struct{ Name, Unit string }
}

func (r Record) directives() []directive {
	var meta struct{ CloudWatchMetrics []directive }
	b, _ := json.Marshal(r["_aws"])
	json.Unmarshal(b, &meta)
	return meta.CloudWatchMetrics
}

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// Validate checks one record against the specification.
func Validate(line []byte) error {
	schemaOnce.Do(func() {
		schema, schemaErr = jsonschema.NewCompiler().Compile(filepath.Join(callbacktest.Root(), "schema", "emf.schema.json"))
	})
	if schemaErr != nil {
		return schemaErr
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return err
	}
	if err := schema.Validate(v); err != nil {
		return err
	}
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return err
	}
	return r.references()
}

// references checks the target members: each dimension a string, each
// metric a number or an array of at most 100 numbers.
func (r Record) references() error {
	for _, d := range r.directives() {
		for _, set := range d.Dimensions {
			for _, name := range set {
				if s, ok := r[name].(string); !ok || s == "" || len(s) > 1024 {
					return fmt.Errorf("dimension %s: got %#v, want a string of 1 to 1024 characters", name, r[name])
				}
			}
		}
		for _, m := range d.Metrics {
			switch v := r[m.Name].(type) {
			case float64:
			case []any:
				if len(v) == 0 || len(v) > 100 {
					return fmt.Errorf("metric %s: %d values, want 1 to 100", m.Name, len(v))
				}
				for _, x := range v {
					if _, ok := x.(float64); !ok {
						return fmt.Errorf("metric %s: value %#v is no number", m.Name, x)
					}
				}
			default:
				return fmt.Errorf("metric %s: got %#v, want a number or an array of numbers", m.Name, r[m.Name])
			}
		}
	}
	return nil
}

// Records returns every EMF record in out, a function's output, after
// checking each: a line that names "_aws" and fails the specification fails
// the test.
func Records(tb testing.TB, out []byte) []Record {
	tb.Helper()
	var records []Record
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		if err := Validate(line); err != nil {
			tb.Errorf("EMF record %s: %v", line, err)
			continue
		}
		var r Record
		json.Unmarshal(line, &r) // valid JSON: Validate decoded it
		records = append(records, r)
	}
	return records
}
