package apigateway

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"smcallbacks/internal/callback/callbacktest"
)

// FuzzDecode decodes arbitrary events: no panic, and either
// ErrUnsupportedEvent or a request whose body reads to its end or fails
// cleanly. The service's own fuzz targets take it from there.
func FuzzDecode(f *testing.F) {
	for _, ev := range callbacktest.SampleEvents(f) {
		f.Add(ev.Payload)
	}
	f.Add([]byte(`{"httpMethod":"POST","multiValueHeaders":{"authorization":["a","b"]},"multiValueQueryStringParameters":{"id":["a","a"],"status":["success"]},"body":"aGk=","isBase64Encoded":true}`))
	f.Add([]byte(`{"version":"2.0","rawQueryString":"id=a&status=b","headers":{"Content-Type":"text/plain"},"requestContext":{"http":{"method":"PUT","sourceIp":"1.2.3.4"}},"body":"hi"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		req, _, _, err := decode(payload, nil)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedEvent) {
				t.Fatalf("got %v, want ErrUnsupportedEvent", err)
			}
			return
		}
		if req.Method == "" || req.Header == nil || req.Body == nil {
			t.Fatalf("got an incomplete request %+v", req)
		}
		for k := range req.Header {
			if k != http.CanonicalHeaderKey(k) {
				t.Fatalf("header %q is not in canonical form", k)
			}
		}
		io.Copy(io.Discard, req.Body)
	})
}
