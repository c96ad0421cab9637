package reconcile_test

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/jobsapi/jobsapitest"
)

// assembleExpecting feeds events to an assembler expecting the given
// contents.
func assembleExpecting(t *testing.T, store *memManifests, ann *announcements, expected []string, evs []*callback.Event) {
	t.Helper()
	a := &assembler.Assembler{Store: store, Announcer: ann, Logger: slog.New(slog.DiscardHandler), Expected: expected}
	for _, ev := range evs {
		if _, err := a.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRejectedStatusSent: a rejected job whose error callback never came
// gets one event with the error status, with what it asked for that the
// Jobs API gives (only jobinfo), so that the assembler says job.failed; the
// next run sends nothing more.
func TestRejectedStatusSent(t *testing.T) {
	legacy := jobsapitest.Notification{URL: callbackURL, AuthHeaders: []string{cbToken}}
	cases := []struct {
		name      string
		manifests bool
		entry     jobsapitest.Notification
		// came: the error callback reached the receiver, status alone.
		came bool
		want []string // the contents of the reconciler's event; nil for no event
	}{
		{"objects, transcript alone", false, ours("transcript"), false, []string{}},
		{"objects, contents []", false, ours(), false, []string{}},
		{"objects, no contents", false, legacy, false, []string{}},
		{"objects, transcript and jobinfo", false, ours("transcript", "jobinfo"), false, []string{callback.ContentJobInfo}},
		{"manifest, transcript alone", true, ours("transcript"), false, []string{}},
		{"manifest, contents []", true, ours(), false, []string{}},
		{"manifest, transcript and jobinfo", true, ours("transcript", "jobinfo"), false, []string{callback.ContentJobInfo}},
		{"manifest, the callback came", true, ours("transcript"), true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			store, ann := newMemManifests(), &announcements{}
			if c.manifests {
				f.cfg.Manifests = store
			}
			f.api.Add(jobsapitest.Job{ID: "rej1", CreatedAt: f.now.Add(-time.Hour), Status: "rejected", Errors: gaveUp,
				Notifications: []jobsapitest.Notification{c.entry}})
			if c.came {
				f.callback("rej1", "error", "", nil)
				assemble(t, store, ann, f.events())
			}
			before := len(f.events())
			f.run()
			evs := f.events()[before:]
			var got []string
			for _, ev := range evs {
				if ev.Origin != callback.OriginReconciler || ev.Status != "error" {
					t.Errorf("got event %+v, want the reconciler's with status error", ev)
				}
				got = []string{}
				for _, a := range ev.Attachments {
					got = append(got, a.Content)
				}
			}
			if len(evs) > 1 || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %d events with contents %v, want contents %v", len(evs), got, c.want)
			}
			assemble(t, store, ann, evs)
			if want := []string{"job.failed"}; !reflect.DeepEqual(ann.got["rej1"], want) {
				t.Errorf("got announcements %v, want %v", ann.got["rej1"], want)
			}
			f.now = f.now.Add(15 * time.Minute)
			if sum := f.run(); sum.JobsReconciled != 0 || sum.JobsWaiting != 0 {
				t.Errorf("next run: got %d reconciled, %d waiting, want 0, 0", sum.JobsReconciled, sum.JobsWaiting)
			}
		})
	}
}

// TestTranscriptNotFound: a 404 on one transcript format stores the others
// and tries that one again at the job's next due run; a second 404 gives it
// up as unrecoverable. A 404 or 410 on the job itself settles it.
func TestTranscriptNotFound(t *testing.T) {
	srt := func(r *http.Request) bool {
		return r.URL.Path == "/v2/jobs/j1/transcript" && r.URL.Query().Get("format") == "srt"
	}
	jsonV2 := func(r *http.Request) bool {
		return r.URL.Path == "/v2/jobs/j1/transcript" && r.URL.Query().Get("format") == "json-v2"
	}
	job := func(r *http.Request) bool { return r.URL.Path == "/v2/jobs/j1" }
	type run struct{ recovered, unrecoverable, waiting int }
	cases := []struct {
		name     string
		contents []string
		fault    *jobsapitest.Fault
		runs     []run // 15 minutes apart: the grace is 10
		stored   []string
		absent   []string
		// quiet: a run after the last asks nothing about the job. A gone
		// job is not: the fake still lists it as done.
		quiet bool
		// manifests: settled by the assembler's manifest, which nothing
		// here ever writes.
		manifests bool
	}{
		{"404 on srt once", []string{"transcript", "transcript.srt"}, &jobsapitest.Fault{Match: srt, Status: 404, Times: 1},
			[]run{{1, 0, 1}, {1, 0, 0}, {0, 0, 0}}, []string{"transcript.json", "transcript.srt"}, nil, true, false},
		{"404 on srt every time", []string{"transcript", "transcript.srt"}, &jobsapitest.Fault{Match: srt, Status: 404},
			[]run{{1, 0, 1}, {0, 1, 0}, {0, 0, 0}}, []string{"transcript.json"}, []string{"transcript.srt"}, true, false},
		{"410 on srt once", []string{"transcript.srt", "transcript.txt"}, &jobsapitest.Fault{Match: srt, Status: 410, Times: 1},
			[]run{{1, 0, 1}, {1, 0, 0}, {0, 0, 0}}, []string{"transcript.txt", "transcript.srt"}, nil, true, false},
		{"404 on the job itself", []string{"transcript", "jobinfo"}, &jobsapitest.Fault{Match: job, Status: 404},
			[]run{{0, 0, 0}, {0, 0, 0}}, nil, []string{"transcript.json", "jobinfo.json"}, false, false},
		{"410 on the job itself", []string{"transcript", "jobinfo"}, &jobsapitest.Fault{Match: job, Status: 410},
			[]run{{0, 0, 0}, {0, 0, 0}}, nil, []string{"transcript.json", "jobinfo.json"}, false, false},
		{"manifest, 404 on the transcript every time", []string{"transcript"}, &jobsapitest.Fault{Match: jsonV2, Status: 404},
			[]run{{0, 0, 1}, {0, 1, 0}, {0, 0, 0}, {0, 0, 0}}, nil, []string{"transcript.json"}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if c.manifests {
				f.cfg.Manifests = newMemManifests()
			}
			f.api.Add(jobsapitest.Job{ID: "j1", CreatedAt: f.now.Add(-time.Hour), Status: "done", Transcripts: transcripts(t),
				Errors: gaveUp, Notifications: []jobsapitest.Notification{ours(c.contents...)}})
			f.api.Fail(c.fault)
			for i, want := range c.runs {
				sum := f.run()
				if got := (run{sum.ContentsRecovered, sum.ContentsUnrecoverable, sum.JobsWaiting}); got != want {
					t.Errorf("run %d: got %+v, want %+v", i+1, got, want)
				}
				f.now = f.now.Add(15 * time.Minute)
			}
			for _, name := range c.stored {
				if f.object("tx/j1/"+name) == nil {
					t.Errorf("%s: got nothing stored, want it", name)
				}
			}
			for _, name := range c.absent {
				if f.object("tx/j1/"+name) != nil {
					t.Errorf("%s: got it stored, want nothing", name)
				}
			}
			if !c.quiet {
				return
			}
			f.api.Reset()
			f.run()
			if n := f.api.Count("/jobs/j1"); n != 0 {
				t.Errorf("a run after the job settled: got %d requests for it, want 0", n)
			}
		})
	}
}

// TestSettledByManifestState: settling by manifest, a job is settled when
// the assembler's manifest has ended, whatever contents the job asked for;
// one still pending waits, and holds the watermark, though nothing the
// job's callbacks carry is missing.
func TestSettledByManifestState(t *testing.T) {
	cases := []struct {
		name     string
		contents []string
		expected []string // the assembler's
		waiting  int      // after the grace
		fetched  []string // contents fetched after the grace
	}{
		{"transcript alone, assembler expects jobinfo too", []string{"transcript"},
			[]string{callback.ContentTranscript, callback.ContentJobInfo}, 1, nil},
		{"transcript alone, assembler expects it alone", []string{"transcript"},
			[]string{callback.ContentTranscript}, 0, nil},
		{"transcript and txt, completed without txt", []string{"transcript", "transcript.txt"},
			[]string{callback.ContentTranscript}, 0, []string{callback.ContentTxt}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			store, ann := newMemManifests(), &announcements{}
			f.cfg.Manifests = store
			tr := transcripts(t)
			created := f.now.Add(-time.Hour)
			f.api.Add(jobsapitest.Job{ID: "j1", CreatedAt: created, Status: "done", Transcripts: tr,
				Notifications: []jobsapitest.Notification{ours(c.contents...)}})
			f.callback("j1", "success", callback.ContentTranscript, tr["json-v2"])
			assembleExpecting(t, store, ann, c.expected, f.events())

			f.run() // within the grace
			f.now = f.now.Add(15 * time.Minute)
			before := len(f.events())
			sum := f.run()
			var fetched []string
			for _, ev := range f.events()[before:] {
				for _, a := range ev.Attachments {
					fetched = append(fetched, a.Content)
				}
			}
			slices.Sort(fetched)
			if sum.JobsWaiting != c.waiting || !slices.Equal(fetched, c.fetched) {
				t.Errorf("after the grace: got %d waiting, %v fetched, want %d, %v", sum.JobsWaiting, fetched, c.waiting, c.fetched)
			}
			if c.waiting == 0 {
				return
			}
			if !sum.Watermark.Equal(created) {
				t.Errorf("got watermark %v, want the pending job's %v", sum.Watermark, created)
			}
			if got, want := strings.Contains(f.logs.String(), "manifest still pending"), true; got != want {
				t.Errorf("pending manifest logged: got %v, want %v", got, want)
			}
		})
	}
}
