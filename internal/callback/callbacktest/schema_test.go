package callbacktest

import (
	"strings"
	"testing"
)

func TestValidateEvent(t *testing.T) {
	const good = `{"version":1,"job_id":"r6sr3jlzjj","status":"success","received_at":"2026-11-27T10:00:00.123Z",` +
		`"request_id":"r","source_ip":"40.74.41.91","user_agent":"Speechmatics-API/2.0","attachments":[` +
		`{"content":"jobinfo","bucket":"","key":"r6sr3jlzjj/jobinfo.json","content_type":"application/json","size":116,` +
		`"sha256":"45d8d2d1813c662521d056a34a6d9960fbef51d6e18e7381a296db34a167112a"}]}`
	tests := []struct {
		name, body string
		valid      bool
	}{
		{"good", good, true},
		{"status only", strings.Replace(good, good[strings.Index(good, `"attachments":[`):], `"attachments":[]}`, 1), true},
		{"null attachments", strings.Replace(good, good[strings.Index(good, `"attachments":[`):], `"attachments":null}`, 1), false},
		{"another version", strings.Replace(good, `"version":1`, `"version":2`, 1), false},
		{"local time", strings.Replace(good, `10:00:00.123Z`, `10:00:00.123+01:00`, 1), false},
		{"not a date", strings.Replace(good, `2026-11-27T10:00:00.123Z`, `yesterday`, 1), false},
		{"unknown content", strings.Replace(good, `"content":"jobinfo"`, `"content":"video"`, 1), false},
		{"short hash", strings.Replace(good, `"sha256":"45d8`, `"sha256":"`, 1), false},
		{"unknown field", strings.Replace(good, `"version":1,`, `"version":1,"extra":true,`, 1), false},
		{"missing job id", strings.Replace(good, `"job_id":"r6sr3jlzjj",`, ``, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateEvent([]byte(tt.body))
			if (err == nil) != tt.valid {
				t.Errorf("got %v, want valid %v", err, tt.valid)
			}
		})
	}
}
