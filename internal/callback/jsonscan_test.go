package callback

import (
	"encoding/json"
	"strings"
	"testing"
)

// checkScanJSON fails unless scanJSON says of b what encoding/json says:
// json.Valid's verdict, and for a valid object the keys that json.Unmarshal
// into topKeys finds.
func checkScanJSON(t *testing.T, b []byte) {
	t.Helper()
	keys, valid := scanJSON(b)
	if want := json.Valid(b); valid != want {
		t.Fatalf("scanJSON(%q): got valid %v, want %v", b, valid, want)
	}
	if !valid || !strings.HasPrefix(strings.TrimLeft(string(b), " \t\r\n"), "{") {
		return
	}
	var want topKeys
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("json.Unmarshal(%q): %v", b, err)
	}
	if keys != want {
		t.Fatalf("scanJSON(%q): got keys %+v, want %+v", b, keys, want)
	}
}

func TestScanJSON(t *testing.T) {
	tests := []string{
		``, ` `, `{}`, `[]`, `{ }`, `[ ]`, `{"a":1}`, `[1,2]`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{,}`, `{"a" 1}`,
		`0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e5`, `1E+5`, `1e-`, `.5`, `-01`, `1.5e3x`, ` 12 `, `12 3`,
		`true`, `false`, `null`, `tru`, `nul`, `truex`, `[true,false,null]`,
		`""`, `"a`, `"\"`, `"\\"`, `"\u00e9"`, `"\u00g9"`, `"\x"`, "\"a\x01b\"", "\"\xff\xfe\"", `"\/\b\f\n\r\t"`,
		`{"format":"2.9","results":[]}`, `{"FORMAT":1,"Results":2}`, `{"form\u0061t":1}`, `{"re\u017fults":1}`,
		`{"id":"a","created_at":"b"}`, `{"a":{"format":1}}`, `[{"format":1}]`, `{"format":null}`,
		`{"a":[1,{"b":[]}],"c":{}}`, `{"a":1}}`, `{"a":1]`, `[1}`, `[[[]]]`, `{"a":"` + strings.Repeat("x", 20) + `"}`,
		"{\n  \"format\": \"2.9\",\n        \"results\": [\n                 1\n  ]\n}\n",
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	}
	for _, tt := range tests {
		checkScanJSON(t, []byte(tt))
	}
	for _, name := range []string{"transcript-json-v2-example.json", "transcript-json-v2-sdk-test-fixture.json",
		"transcript-json-v2-real-capture-vcon.json", "jobinfo.json", "job-status-example.json"} {
		checkScanJSON(t, fixture(t, name))
	}
}

// FuzzScanJSON holds scanJSON to encoding/json on arbitrary bytes.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{`{"format":"2.9","results":[{"a":-1.5e-3,"b":[true,false,null]}]}`, `{"id":"x","created_at":"y"}`,
		`[1,"a\u00e9\n"]`, `{"re\u017fults":{}}`, "\"\xff\"", `-0.0E+1`} {
		f.Add([]byte(s))
	}
	f.Add(fixture(f, "jobinfo.json"))
	f.Fuzz(func(t *testing.T, b []byte) { checkScanJSON(t, b) })
}
