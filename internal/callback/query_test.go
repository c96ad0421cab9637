package callback

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		raw                string
		wantID, wantStatus string
		wantErr            string // part of the error message; "" for none
	}{
		{"id=r6sr3jlzjj&status=success", "r6sr3jlzjj", "success", ""},
		{"status=fetch_error&id=1", "1", "fetch_error", ""},
		{"id=0123456789abcdef0123&status=trim_error", "0123456789abcdef0123", "trim_error", ""},
		{"token=abc&jobId=x&id=r6sr3jlzjj&status=error", "r6sr3jlzjj", "error", ""},
		{"id=r6sr3jlzjj&status=brand_new", "r6sr3jlzjj", "brand_new", ""},
		{"id=r6sr3jlzjj&id=r6sr3jlzjj&status=success", "r6sr3jlzjj", "success", ""},
		{"id=Job_1-a&status=success", "Job_1-a", "success", ""},
		{"id=r6sr3jlzjj&status=success&junk=%zz", "r6sr3jlzjj", "success", ""},
		{"status=success", "", "", `missing query parameter "id"`},
		{"id=r6sr3jlzjj", "", "", `missing query parameter "status"`},
		{"", "", "", `missing query parameter "id"`},
		{"id=a&id=b&status=success", "", "", `"id" given twice with different values`},
		{"id=a&status=success&status=error", "", "", `"status" given twice with different values`},
		{"id=&status=success", "", "", `invalid query parameter "id"`},
		{"id=-abc&status=success", "", "", `invalid query parameter "id"`},
		{"id=..%2Fetc&status=success", "", "", `invalid query parameter "id"`},
		{"id=a%2Fb&status=success", "", "", `invalid query parameter "id"`},
		{"id=" + strings.Repeat("a", 129) + "&status=success", "", "", `invalid query parameter "id"`},
		{"id=%zz&status=success", "", "", `invalid query parameter "id": bad percent-encoding`},
		{"id=a&id=%zz&status=success", "", "", `invalid query parameter "id": bad percent-encoding`},
		{"id=a&status=success&note=%zz;x", "a", "success", ""},
		{"id=a;status=success", "", "", `invalid query parameter "id"`},
		{"id=a+b&status=success", "", "", `invalid query parameter "id"`},
		{"id=r6sr3jlzjj&status=success&", "r6sr3jlzjj", "success", ""},
		{"id=abc&status=Success", "", "", `invalid query parameter "status"`},
		{"id=abc&status=" + strings.Repeat("a", 33), "", "", `invalid query parameter "status"`},
		{"id=abc&status=ok%0A", "", "", `invalid query parameter "status"`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			id, status, err := parseQuery(tt.raw)
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != http.StatusBadRequest || !strings.Contains(e.Message, tt.wantErr) {
					t.Fatalf("got error %v, want a 400 saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || id != tt.wantID || status != tt.wantStatus {
				t.Errorf("got %q, %q, %v, want %q, %q, nil", id, status, err, tt.wantID, tt.wantStatus)
			}
		})
	}
}
