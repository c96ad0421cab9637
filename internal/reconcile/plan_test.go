package reconcile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestGaveUp(t *testing.T) {
	cases := []struct {
		messages []string
		want     bool
	}{
		{nil, false},
		{[]string{"Error in sending notification: unable to send notification: Response status: 500, retrying"}, false},
		{[]string{"unable to send notification: unable to send notification: Response status: 500"}, true},
		{[]string{"Sending notification failed"}, true},
		{[]string{"unable to fetch audio: http status code 404"}, false},
	}
	for _, c := range cases {
		j := &Job{}
		for _, m := range c.messages {
			j.Errors = append(j.Errors, JobError{Message: m})
		}
		if got := gaveUp(j); got != c.want {
			t.Errorf("%q: got %v, want %v", c.messages, got, c.want)
		}
	}
}

// TestGaveUpSample reads the documented sample of a job whose notification
// failed for good (testdata: a copy of the shared Speechmatics sample).
func TestGaveUpSample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "job-details-notification-failure-errors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Job struct {
			Errors []JobError `json:"errors"`
		} `json:"job"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		t.Fatal(err)
	}
	if !gaveUp(&Job{Errors: answer.Job.Errors}) || gaveUp(&Job{Errors: answer.Job.Errors[:3]}) {
		t.Error("got the wrong answer for the sample: gave up only after the last retry")
	}
}

func TestSameURL(t *testing.T) {
	const cb = "https://abc.execute-api.eu-west-1.amazonaws.com/callback"
	cases := []struct {
		url  string
		want bool
	}{
		{cb, true},
		{cb + "?token=x&jobId=1", true},
		{"HTTPS://ABC.execute-api.eu-west-1.amazonaws.com/callback", true},
		{cb + "/", false},
		{"https://abc.execute-api.eu-west-1.amazonaws.com/callbacks", false},
		{"http://abc.execute-api.eu-west-1.amazonaws.com/callback", false},
		{"https://evil.example.com/callback", false},
		{"::not a url", false},
	}
	for _, c := range cases {
		if got := sameURL(c.url, cb); got != c.want {
			t.Errorf("%q: got %v, want %v", c.url, got, c.want)
		}
	}
}

func TestExpected(t *testing.T) {
	cases := []struct {
		name              string
		status            string
		notes             []Notification
		want, unrecovered []string
	}{
		{"legacy", JobDone, []Notification{{}}, []string{"transcript.json-v2"}, nil},
		{"empty contents", JobDone, []Notification{{HasContents: true}}, nil, nil},
		{"union, transcript alias", JobDone, []Notification{
			{HasContents: true, Contents: []string{"transcript", "jobinfo"}},
			{HasContents: true, Contents: []string{"transcript.json-v2", "transcript.srt", "data", "text"}},
		}, []string{"jobinfo", "transcript.json-v2", "transcript.srt"}, []string{"data", "text"}},
		{"rejected: jobinfo alone", JobRejected, []Notification{{HasContents: true, Contents: []string{"transcript", "jobinfo", "data"}}},
			[]string{"jobinfo"}, nil},
		{"rejected without jobinfo", JobRejected, []Notification{{HasContents: true, Contents: []string{"transcript.txt"}}}, nil, nil},
	}
	for _, c := range cases {
		want, unrecovered := expected(&Job{Status: c.status}, c.notes)
		if !reflect.DeepEqual(want, c.want) || !reflect.DeepEqual(unrecovered, c.unrecovered) {
			t.Errorf("%s: got %v, %v, want %v, %v", c.name, want, unrecovered, c.want, c.unrecovered)
		}
	}
}

func TestContentOfKey(t *testing.T) {
	for rel, want := range map[string]string{
		"transcript.json": "transcript.json-v2", "transcript.txt": "transcript.txt", "transcript.srt": "transcript.srt",
		"jobinfo.json": "jobinfo", "text.txt": "text", "data/a.wav": "data", "other/part-1": "other", "transcript-2.json": "other",
	} {
		if got := contentOfKey(rel); got != want {
			t.Errorf("%s: got %s, want %s", rel, got, want)
		}
	}
}
