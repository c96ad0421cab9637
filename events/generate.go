//go:build ignore

// Generate writes the sample API Gateway and Function URL events in this
// folder from the fixtures in internal/callback/testdata, and
// expected/outcomes.json: what the receiver answers and stores for each. Run from the repository
// root: go run ./events/generate.go
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
)

// Token is the credential the events carry; tests configure
// "Authorization: Bearer test-token-0123456789".
const token = "Bearer test-token-0123456789"

const (
	apiHost = "abc123defg.execute-api.eu-west-1.amazonaws.com"
	urlHost = "u4hfkz3xgbmdw6gr5ks7h2ezxm0cqwsp.lambda-url.eu-west-1.on.aws"
	ip      = "40.74.41.91" // one of Speechmatics' EU1 egress addresses
	epoch   = 1795773600000
)

func fixture(name string) []byte {
	b, err := os.ReadFile(filepath.Join("internal", "callback", "testdata", name))
	if err != nil {
		log.Fatal(err)
	}
	return b
}

type part struct{ name, file, ctype, fixture string }

func form(parts ...part) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.SetBoundary("------------------------sm7c2b1d0e9f8a")
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.file != "" {
			cd += fmt.Sprintf(`; filename=%q`, p.file)
		}
		h.Set("Content-Disposition", cd)
		h.Set("Content-Type", p.ctype)
		pw, _ := w.CreatePart(h)
		pw.Write(fixture(p.fixture))
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// v2 is an HTTP API (payload 2.0) or Function URL event.
func v2(functionURL bool, query, auth, ctype string, body []byte, b64 bool, reqID string) map[string]any {
	host, route, path, account, apiID := apiHost, "POST /callback", "/callback", "123456789012", "abc123defg"
	if functionURL {
		host, route, path, account, apiID = urlHost, "$default", "/", "anonymous", "u4hfkz3xgbmdw6gr5ks7h2ezxm0cqwsp"
	}
	headers := map[string]string{
		"accept": "*/*", "authorization": auth, "content-length": strconv.Itoa(len(body)),
		"host": host, "user-agent": "Speechmatics-API/2.0",
		"x-amzn-trace-id": "Root=1-6746e0a0-3f1e2d3c4b5a69788796a5b4", "x-forwarded-for": ip,
		"x-forwarded-port": "443", "x-forwarded-proto": "https",
	}
	if ctype != "" {
		headers["content-type"] = ctype
	}
	ev := map[string]any{
		"version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": query,
		"headers": headers, "queryStringParameters": queryMap(query),
		"requestContext": map[string]any{
			"accountId": account, "apiId": apiID, "domainName": host, "domainPrefix": apiID,
			"http":      map[string]any{"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "Speechmatics-API/2.0"},
			"requestId": reqID, "routeKey": route, "stage": "$default",
			"time": "27/Nov/2026:10:00:00 +0000", "timeEpoch": epoch,
		},
		"isBase64Encoded": b64,
	}
	if len(body) > 0 {
		ev["body"] = encode(body, b64)
	}
	return ev
}

func queryMap(q string) map[string]string {
	m := map[string]string{}
	for _, kv := range bytes.Split([]byte(q), []byte("&")) {
		k, v, _ := bytes.Cut(kv, []byte("="))
		if old, ok := m[string(k)]; ok {
			m[string(k)] = old + "," + string(v) // as HTTP APIs join repeated parameters
		} else {
			m[string(k)] = string(v)
		}
	}
	return m
}

func encode(body []byte, b64 bool) string {
	if b64 {
		return base64.StdEncoding.EncodeToString(body)
	}
	return string(body)
}

// v1 is a REST API proxy event (payload 1.0), with binaryMediaTypes */*.
func v1(query map[string][]string, auth, ctype string, body []byte) map[string]any {
	mvh := map[string][]string{
		"Accept": {"*/*"}, "Authorization": {auth}, "Content-Type": {ctype},
		"Content-Length": {strconv.Itoa(len(body))}, "Host": {apiHost},
		"User-Agent": {"Speechmatics-API/2.0"}, "X-Amzn-Trace-Id": {"Root=1-6746e0a0-5b4a3f2e1d0c9b8a7f6e5d4c"},
		"X-Forwarded-For": {ip}, "X-Forwarded-Port": {"443"}, "X-Forwarded-Proto": {"https"},
	}
	h := map[string]string{}
	for k, v := range mvh {
		h[k] = v[len(v)-1] // headers holds the last value of each
	}
	qs := map[string]string{}
	for k, v := range query {
		qs[k] = v[len(v)-1]
	}
	return map[string]any{
		"resource": "/callback", "path": "/callback", "httpMethod": "POST",
		"headers": h, "multiValueHeaders": mvh,
		"queryStringParameters": qs, "multiValueQueryStringParameters": query,
		"pathParameters": nil, "stageVariables": nil,
		"requestContext": map[string]any{
			"accountId": "123456789012", "apiId": "abc123defg", "domainName": apiHost, "domainPrefix": "abc123defg",
			"extendedRequestId": "BdTdGFb3joEFYzg=", "httpMethod": "POST", "path": "/prod/callback",
			"protocol": "HTTP/1.1", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			"requestTime": "27/Nov/2026:10:00:00 +0000", "requestTimeEpoch": epoch,
			"resourceId": "x1y2z3", "resourcePath": "/callback", "stage": "prod",
			"identity": map[string]any{"sourceIp": ip, "userAgent": "Speechmatics-API/2.0"},
		},
		"body": encode(body, true), "isBase64Encoded": true,
	}
}

func main() {
	multi, multiType := form(
		part{"transcript", "", "application/json", "transcript-json-v2-example.json"},
		part{"jobinfo", "", "application/json", "jobinfo.json"},
		part{"data", "example.wav", "audio/wav", "media.wav"},
	)
	legacy, legacyType := form(
		part{"data_file", "transcript.json", "application/json", "transcript-json-v2-example.json"},
		part{"jobinfo", "", "application/json", "jobinfo.json"},
	)
	type expectation struct {
		StatusCode int               `json:"status_code"`
		JobID      string            `json:"job_id,omitempty"`
		Status     string            `json:"status,omitempty"`
		RequestID  string            `json:"request_id,omitempty"`
		Objects    map[string]string `json:"objects"` // key -> fixture in internal/callback/testdata
	}
	transcriptJSON := map[string]string{"650krlru2e/transcript.json": "transcript-json-v2-example.json"}
	expected := map[string]expectation{
		"http-api-transcript-json.json": {200, "650krlru2e", "success", "JKJaXmPLvHcESHA=", transcriptJSON},
		"http-api-transcript-srt.json": {200, "650krlru2e", "success", "JKJaXmPLvHcESHB=",
			map[string]string{"650krlru2e/transcript.srt": "transcript-srt-excerpt.srt"}},
		"http-api-multipart.json": {200, "650krlru2e", "success", "JKJaXmPLvHcESHC=", map[string]string{
			"650krlru2e/transcript.json":  "transcript-json-v2-example.json",
			"650krlru2e/jobinfo.json":     "jobinfo.json",
			"650krlru2e/data/example.wav": "media.wav",
		}},
		"http-api-status-error.json": {200, "650krlru2e", "error", "JKJaXmPLvHcESHD=", map[string]string{}},
		"http-api-bad-token.json":    {401, "", "", "", map[string]string{}},
		"function-url-transcript-txt.json": {200, "650krlru2e", "success", "4d1c7e2a-9b3f-4e5d-8a6b-7c8d9e0f1a2b",
			map[string]string{"650krlru2e/transcript.txt": "transcript-txt-example.txt"}},
		"rest-api-multipart.json": {200, "650krlru2e", "success", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", map[string]string{
			"650krlru2e/transcript.json": "transcript-json-v2-example.json",
			"650krlru2e/jobinfo.json":    "jobinfo.json",
		}},
	}
	events := map[string]any{
		"http-api-transcript-json.json": v2(false, "id=650krlru2e&status=success", token, "application/json",
			fixture("transcript-json-v2-example.json"), false, "JKJaXmPLvHcESHA="),
		"http-api-transcript-srt.json": v2(false, "id=650krlru2e&status=success", token, "text/plain",
			fixture("transcript-srt-excerpt.srt"), false, "JKJaXmPLvHcESHB="),
		"http-api-multipart.json": v2(false, "id=650krlru2e&status=success", token, multiType,
			multi, true, "JKJaXmPLvHcESHC="),
		"http-api-status-error.json": v2(false, "id=650krlru2e&status=error", token, "",
			nil, false, "JKJaXmPLvHcESHD="),
		"http-api-bad-token.json": v2(false, "id=650krlru2e&status=success", "Bearer wrong-token", "application/json",
			fixture("transcript-json-v2-example.json"), false, "JKJaXmPLvHcESHE="),
		"function-url-transcript-txt.json": v2(true, "id=650krlru2e&status=success", token, "text/plain; charset=utf-8",
			fixture("transcript-txt-example.txt"), true, "4d1c7e2a-9b3f-4e5d-8a6b-7c8d9e0f1a2b"),
		"rest-api-multipart.json": v1(map[string][]string{"id": {"650krlru2e", "650krlru2e"}, "status": {"success"}, "token": {"user-own-param"}},
			token, legacyType, legacy),
	}
	write(filepath.Join("expected", "outcomes.json"), expected)
	for name, ev := range events {
		write(name, ev)
	}
}

func write(name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("events", name), append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}
