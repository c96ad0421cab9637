package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/jobsapi/jobsapitest"
	"smcallbacks/internal/reconcile"
)

// TestRunScenarios runs the reconciler over one job of each kind the issue
// names, against the local sinks and against S3 and SQS in moto, three
// times: the first run recovers what is due, the second (after the grace)
// what waited, the third changes nothing and asks for no transcript. The assembler, fed every event,
// ends each job exactly once.
func TestRunScenarios(t *testing.T) {
	for _, sinks := range []string{onLocal, onMoto} {
		t.Run(sinks, func(t *testing.T) { runScenarios(t, newFixtureOn(t, sinks)) })
	}
}

func runScenarios(t *testing.T, f *fixture) {
	at := func(ago time.Duration) time.Time { return f.now.Add(-ago) }
	tr := transcripts(t)
	f.api.Add(
		jobsapitest.Job{ID: "nocallback1", CreatedAt: at(50 * time.Minute), Status: "done", Transcripts: tr,
			Notifications: []jobsapitest.Notification{ours("transcript", "jobinfo")}, Errors: gaveUp},
		jobsapitest.Job{ID: "transonly1", CreatedAt: at(40 * time.Minute), Status: "done", Transcripts: tr,
			Notifications: []jobsapitest.Notification{ours("transcript"), ours("jobinfo")}},
		jobsapitest.Job{ID: "rejected1", CreatedAt: at(30 * time.Minute), Status: "rejected",
			Notifications: []jobsapitest.Notification{ours("transcript", "jobinfo")}, Errors: gaveUp},
		jobsapitest.Job{ID: "running1", CreatedAt: at(20 * time.Minute), Status: "running",
			Notifications: []jobsapitest.Notification{ours("transcript", "jobinfo")}},
		jobsapitest.Job{ID: "other1", CreatedAt: at(19 * time.Minute), Status: "done", Transcripts: tr, Errors: gaveUp,
			Notifications: []jobsapitest.Notification{{URL: "https://elsewhere.example.com/callback", Contents: []string{"transcript"}}}},
		jobsapitest.Job{ID: "deleted1", CreatedAt: at(18 * time.Minute), Status: "deleted",
			Notifications: []jobsapitest.Notification{ours("transcript")}},
		jobsapitest.Job{ID: "expired1", CreatedAt: at(17 * time.Minute), Status: "expired",
			Notifications: []jobsapitest.Notification{ours("transcript")}},
		jobsapitest.Job{ID: "data1", CreatedAt: at(16 * time.Minute), Status: "done", Transcripts: tr, Errors: gaveUp,
			Notifications: []jobsapitest.Notification{ours("transcript.txt", "transcript.srt", "data")}},
		jobsapitest.Job{ID: "legacy1", CreatedAt: at(15 * time.Minute), Status: "done", Transcripts: tr, Errors: gaveUp,
			Notifications: []jobsapitest.Notification{{URL: callbackURL, AuthHeaders: []string{cbToken}}}},
	)
	// transonly1's transcript came by callback; its jobinfo did not.
	f.callback("transonly1", "success", callback.ContentTranscript, tr["json-v2"])

	first := f.run()
	t.Logf("first run: %d Jobs API requests", len(f.api.Requests()))
	want := reconcile.Summary{JobsListed: 8, JobsOurs: 7, JobsReconciled: 4, ContentsRecovered: 6,
		ContentsUnrecoverable: 1, JobsWaiting: 2, Pages: 1, Watermark: at(40 * time.Minute),
		// transonly1, finished and incomplete, is first seen so now.
		OldestUnsettledSeconds: 0}
	if *first != want {
		t.Errorf("first run: got %+v, want %+v", *first, want)
	}
	for key, fixture := range map[string][]byte{
		"tx/nocallback1/transcript.json": tr["json-v2"], "tx/data1/transcript.txt": tr["txt"],
		"tx/data1/transcript.srt": tr["srt"], "tx/legacy1/transcript.json": tr["json-v2"],
	} {
		if got := f.object(key); !bytes.Equal(got, fixture) {
			t.Errorf("%s: got %d bytes, want the API's %d", key, len(got), len(fixture))
		}
	}
	checkJobInfo(t, f.object("tx/nocallback1/jobinfo.json"), "nocallback1")
	checkJobInfo(t, f.object("tx/rejected1/jobinfo.json"), "rejected1")
	if f.object("tx/transonly1/jobinfo.json") != nil {
		t.Error("transonly1 was reconciled within its grace")
	}
	for _, id := range []string{"other1", "running1", "deleted1", "expired1"} {
		if n := f.api.Count("/jobs/" + id); n != 0 {
			t.Errorf("%s: got %d requests for it, want none", id, n)
		}
	}

	f.now = f.now.Add(5 * time.Minute) // within transonly1's grace
	if mid := f.run(); mid.JobsReconciled != 0 || mid.JobsWaiting != 2 || mid.OldestUnsettledSeconds != 300 {
		t.Errorf("after 5 minutes: got %+v, want transonly1 incomplete for 300 s, running1 waiting too", *mid)
	}
	f.now = f.now.Add(6 * time.Minute) // transonly1's grace is over
	f.api.Reset()
	second := f.run()
	t.Logf("second run: %d Jobs API requests", len(f.api.Requests()))
	if second.JobsReconciled != 1 || second.ContentsRecovered != 1 || second.ContentsUnrecoverable != 0 || second.JobsWaiting != 1 ||
		second.OldestUnsettledSeconds != 0 {
		t.Errorf("second run: got %+v, want transonly1's jobinfo alone, running1 waiting, data1 not counted again", *second)
	}
	if n := f.api.Count("/jobs/transonly1/transcript"); n != 0 {
		t.Errorf("got %d transcript requests for transonly1, want none: its transcript is stored", n)
	}

	f.api.Reset()
	before := len(f.events())
	third := f.run()
	t.Logf("third run: %d Jobs API requests", len(f.api.Requests()))
	if third.JobsReconciled != 0 || len(f.events()) != before {
		t.Errorf("third run: got %+v and %d new events, want nothing done", *third, len(f.events())-before)
	}
	for _, r := range f.api.Requests() {
		if r.Path != "/v2/jobs" || !r.Authorized {
			t.Errorf("third run: got request %s %v, want only authorized lists", r.Path, r.Query)
		}
	}
	checkEvents(t, f.events())
}

// checkEvents checks the origin of each event and that the assembler ends
// each job of ours exactly once.
func checkEvents(t *testing.T, evs []*callback.Event) {
	t.Helper()
	for _, ev := range evs {
		fromCallback := ev.RequestID == "cb-"+ev.JobID
		if fromCallback != (ev.Origin == "") || (!fromCallback && (ev.Origin != callback.OriginReconciler ||
			ev.SourceIP != reconcile.SourceIP || ev.UserAgent != reconcile.UserAgent || !strings.HasPrefix(ev.RequestID, "reconcile-"))) {
			t.Errorf("got event %+v, want a reconciler's to say so", ev)
		}
	}
	store, ann := newMemManifests(), &announcements{}
	assemble(t, store, ann, evs)
	assemble(t, store, ann, evs) // delivered twice: nothing more
	want := map[string][]string{
		"nocallback1": {"job.completed"}, "transonly1": {"job.completed"}, "rejected1": {"job.failed"},
	}
	for id, types := range want {
		if !reflect.DeepEqual(ann.got[id], types) {
			t.Errorf("%s: got announcements %v, want %v", id, ann.got[id], types)
		}
	}
}

// checkJobInfo checks that jobinfo is what a callback's is, the job object,
// and nothing of the config a callback never sends (its notification URLs
// and auth_headers among it).
func checkJobInfo(t *testing.T, b []byte, id string) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s jobinfo: %v (%q)", id, err, b)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"created_at", "data_name", "duration", "id"}; got["id"] != id || !slices.Equal(keys, want) {
		t.Errorf("%s jobinfo: got %s, want the job object alone: %v", id, b, want)
	}
}

// TestWatermarkPaging: 300 settled jobs behind the watermark cost one page.
func TestWatermarkPaging(t *testing.T) {
	f := newFixture(t)
	for i := range 300 {
		f.api.Add(jobsapitest.Job{ID: "old" + itoa(i), CreatedAt: f.now.Add(-time.Hour - time.Duration(i)*time.Second),
			Status: "done", Notifications: []jobsapitest.Notification{ours()}})
	}
	if sum := f.run(); sum.Pages != 4 || sum.JobsListed != 300 || !sum.Watermark.Equal(f.now.Add(-time.Hour)) {
		t.Fatalf("first run: got %+v, want 300 jobs over 4 pages, watermark at the newest", *sum)
	}
	f.now = f.now.Add(time.Minute)
	f.api.Add(jobsapitest.Job{ID: "new1", CreatedAt: f.now.Add(-time.Second), Status: "running",
		Notifications: []jobsapitest.Notification{ours("transcript")}})
	f.api.Reset()
	sum := f.run()
	if sum.Pages != 1 || f.api.Count("/jobs") != 1 || sum.JobsListed != 2 {
		t.Errorf("second run: got %+v and %d requests, want 1 page, 1 request, 2 jobs", *sum, f.api.Count("/jobs"))
	}
	if !sum.Watermark.Equal(f.now.Add(-time.Second)) {
		t.Errorf("got watermark %v, want the running job's created_at", sum.Watermark)
	}
}

func itoa(i int) string {
	return string(rune('a'+i/100)) + string(rune('a'+i/10%10)) + string(rune('a'+i%10))
}

// TestAPIFaults: 429 and 5xx back off, then stop the run with an error and
// leave the job for the next run; 401 stops the run; a 404 on the
// transcript leaves the job for its next due run.
func TestAPIFaults(t *testing.T) {
	transcript := func(id string) func(r *http.Request) bool {
		return func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v2/jobs/"+id+"/") }
	}
	cases := []struct {
		name        string
		fault       *jobsapitest.Fault
		reconciled  int
		requests    int // transcript requests
		wantErr     error
		wantWaiting int
	}{
		{"429 with Retry-After, once", &jobsapitest.Fault{Match: transcript("j1"), Status: 429, RetryAfter: "1", Times: 1}, 1, 2, nil, 0},
		{"429 without Retry-After, twice", &jobsapitest.Fault{Match: transcript("j1"), Status: 429, Times: 2}, 1, 3, nil, 0},
		{"429 asking for an hour", &jobsapitest.Fault{Match: transcript("j1"), Status: 429, RetryAfter: "3600"}, 0, 1, reconcile.ErrUnavailable, 1},
		{"503 every time", &jobsapitest.Fault{Match: transcript("j1"), Status: 503}, 0, 4, reconcile.ErrUnavailable, 1},
		{"401", &jobsapitest.Fault{Status: 401}, 0, 0, reconcile.ErrUnauthorized, 0},
		{"404 on the transcript", &jobsapitest.Fault{Match: transcript("j1"), Status: 404}, 0, 1, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.api.Add(jobsapitest.Job{ID: "j1", CreatedAt: f.now.Add(-time.Hour), Status: "done", Transcripts: transcripts(t),
				Errors: gaveUp, Notifications: []jobsapitest.Notification{ours("transcript")}})
			f.api.Fail(c.fault)
			start := time.Now()
			sum, err := f.reconciler().Run(context.Background())
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("got error %v, want %v", err, c.wantErr)
			}
			if sum.JobsReconciled != c.reconciled || sum.JobsWaiting != c.wantWaiting || f.api.Count("/jobs/j1/transcript") != c.requests {
				t.Errorf("got %+v and %d transcript requests, want %d reconciled, %d waiting, %d requests",
					*sum, f.api.Count("/jobs/j1/transcript"), c.reconciled, c.wantWaiting, c.requests)
			}
			if c.fault.RetryAfter == "1" && time.Since(start) < time.Second {
				t.Errorf("took %s, want Retry-After's second honoured", time.Since(start))
			}
		})
	}
}

// TestDeadline: a run whose time is up stops before listing and keeps the
// watermark.
func TestDeadline(t *testing.T) {
	f := newFixture(t)
	f.api.Add(jobsapitest.Job{ID: "j1", CreatedAt: f.now.Add(-time.Hour), Status: "done", Transcripts: transcripts(t),
		Errors: gaveUp, Notifications: []jobsapitest.Notification{ours("transcript")}})
	f.cfg.Margin = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sum, err := f.reconciler().Run(ctx)
	if err != nil || !sum.StoppedEarly || sum.Pages != 0 || !sum.Watermark.Equal(f.now.Add(-144*time.Hour)) {
		t.Errorf("got %+v, %v, want a clean early stop with the watermark at the lookback", *sum, err)
	}
	if sum := f.run(); sum.JobsReconciled != 1 {
		t.Errorf("next run: got %+v, want j1 reconciled", *sum)
	}
}

// TestRunJobIgnoresGrace: RECONCILE_JOB fetches a job within its grace,
// and leaves another URL's job alone.
func TestRunJobIgnoresGrace(t *testing.T) {
	f := newFixture(t)
	f.api.Add(
		jobsapitest.Job{ID: "j1", CreatedAt: f.now.Add(-time.Minute), Status: "done", Transcripts: transcripts(t),
			Notifications: []jobsapitest.Notification{ours("transcript.txt")}},
		jobsapitest.Job{ID: "j2", CreatedAt: f.now.Add(-time.Minute), Status: "done", Transcripts: transcripts(t), Errors: gaveUp,
			Notifications: []jobsapitest.Notification{{URL: "https://elsewhere.example.com/cb", Contents: []string{"transcript"}}}},
	)
	r := f.reconciler()
	if sum, err := r.RunJob(context.Background(), "j1"); err != nil || sum.JobsReconciled != 1 {
		t.Errorf("j1: got %+v, %v, want it reconciled now", sum, err)
	}
	if sum, err := r.RunJob(context.Background(), "j2"); err != nil || sum.JobsOurs != 0 || f.api.Count("/jobs/j2/transcript") != 0 {
		t.Errorf("j2: got %+v, %v, want it left alone", sum, err)
	}
	if got := f.object("tx/j1/transcript.txt"); !bytes.Equal(got, transcripts(t)["txt"]) {
		t.Errorf("got %q, want the txt transcript", got)
	}
}

// TestUnrecoverableCounted counts a content the Jobs API cannot give only
// when it never arrived, once the job's grace is over, and once per job.
func TestUnrecoverableCounted(t *testing.T) {
	f := newFixture(t)
	tr := transcripts(t)
	media := callbacktest.Fixture(t, "media.wav")
	f.api.Add(
		jobsapitest.Job{ID: "delivered1", CreatedAt: f.now.Add(-time.Minute), Status: "done", Transcripts: tr,
			Notifications: []jobsapitest.Notification{ours("transcript"), ours("data")}},
		jobsapitest.Job{ID: "lost1", CreatedAt: f.now.Add(-2 * time.Minute), Status: "done", Transcripts: tr,
			Notifications: []jobsapitest.Notification{ours("transcript"), ours("data")}},
	)
	f.callback("delivered1", "success", callback.ContentTranscript, tr["json-v2"])
	f.callback("delivered1", "success", callback.ContentData, media)
	f.callback("lost1", "success", callback.ContentTranscript, tr["json-v2"])
	runs := []struct {
		after                    time.Duration
		unrecoverable, waiting   int
		oldestUnsettledInSeconds float64
	}{
		{0, 0, 1, 0},                 // lost1's media may still come
		{5 * time.Minute, 0, 1, 300}, // still within the grace
		{6 * time.Minute, 1, 0, 0},   // grace over: lost, and settled
		{time.Minute, 0, 0, 0},       // counted once
	}
	for i, run := range runs {
		f.now = f.now.Add(run.after)
		sum := f.run()
		if sum.ContentsUnrecoverable != run.unrecoverable || sum.JobsWaiting != run.waiting || sum.OldestUnsettledSeconds != run.oldestUnsettledInSeconds {
			t.Errorf("run %d: got %+v, want %d unrecoverable, %d waiting, oldest unsettled %v s",
				i+1, *sum, run.unrecoverable, run.waiting, run.oldestUnsettledInSeconds)
		}
	}
	if n := f.api.Count("/jobs/delivered1/transcript") + f.api.Count("/jobs/lost1/transcript"); n != 0 {
		t.Errorf("got %d transcript requests, want none: both transcripts are stored", n)
	}
}

// TestReplay re-sends one event for every stored object of a job, and
// stores nothing.
func TestReplay(t *testing.T) {
	f := newFixture(t)
	f.callback("r1", "success", callback.ContentTranscript, callbacktest.Fixture(t, "transcript-json-v2-example.json"))
	f.callback("r1", "success", callback.ContentTxt, callbacktest.Fixture(t, "transcript-txt-example.txt"))
	if err := f.reconciler().Replay(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	evs := f.events()
	last := evs[len(evs)-1]
	var got []string
	for _, a := range last.Attachments {
		got = append(got, a.Content+"="+a.Key+":"+a.SHA256[:8])
	}
	var want []string
	for _, ev := range evs[:2] {
		a := ev.Attachments[0]
		want = append(want, a.Content+"="+a.Key+":"+a.SHA256[:8])
	}
	slices.Sort(want)
	if last.Origin != callback.OriginReplay || last.Status != "success" || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v %v, want a replay of %v", last, got, want)
	}
	if err := f.reconciler().Replay(context.Background(), "nothing1"); err == nil {
		t.Error("replay of a job with nothing stored: got nil, want an error")
	}
}

// TestManifestMode: with the assembler's manifests, a stored object that
// the manifest lacks is announced again, nothing fetched; a failed job is
// settled.
func TestManifestMode(t *testing.T) {
	f := newFixture(t)
	manifests := newMemManifests()
	f.cfg.Manifests = manifests
	tr := transcripts(t)
	f.api.Add(
		jobsapitest.Job{ID: "silent1", CreatedAt: f.now.Add(-time.Hour), Status: "done", Transcripts: tr, Errors: gaveUp,
			Notifications: []jobsapitest.Notification{ours("transcript", "jobinfo")}},
		jobsapitest.Job{ID: "failed1", CreatedAt: f.now.Add(-time.Hour), Status: "done", Transcripts: tr, Errors: gaveUp,
			Notifications: []jobsapitest.Notification{ours("transcript")}},
	)
	// silent1's transcript was stored, but its event never queued.
	f.callback("silent1", "success", callback.ContentTranscript, tr["json-v2"])
	stored := f.events()[0]
	f.callback("failed1", "error", callback.ContentJobInfo, []byte(`{"id":"failed1","created_at":"2026-01-01T00:00:00Z"}`))
	ann := &announcements{}
	assemble(t, manifests, ann, f.events()[1:]) // only failed1's event got through

	sum := f.run()
	if sum.JobsReconciled != 1 || sum.ContentsReannounced != 1 || sum.ContentsRecovered != 1 {
		t.Errorf("got %+v, want silent1's transcript announced again and its jobinfo fetched", *sum)
	}
	if n := f.api.Count("/jobs/silent1/transcript") + f.api.Count("/jobs/failed1"); n != 0 {
		t.Errorf("got %d requests, want no transcript fetched", n)
	}
	evs := f.events()
	var again *callback.Event
	for _, ev := range evs[2:] {
		if len(ev.Attachments) == 1 && ev.Attachments[0].Content == callback.ContentTranscript {
			again = ev
		}
	}
	if again == nil || again.Origin != callback.OriginReconciler || !reflect.DeepEqual(again.Attachments, stored.Attachments) {
		t.Fatalf("got events %+v, want one announcing %+v again", evs[2:], stored.Attachments)
	}
	assemble(t, manifests, ann, evs[2:])
	if got := ann.got["silent1"]; !reflect.DeepEqual(got, []string{"job.completed"}) {
		t.Errorf("silent1: got %v, want job.completed once", got)
	}
	f.api.Reset()
	if sum := f.run(); sum.JobsReconciled != 0 || sum.JobsWaiting != 0 {
		t.Errorf("second run: got %+v, want everything settled", *sum)
	}
}

// overlapped is a StateStore on which another run saves its state just
// after this one loaded it, as when a schedule's event is delivered twice.
type overlapped struct {
	reconcile.StateStore
	other []byte
}

func (o *overlapped) Load(ctx context.Context) ([]byte, string, error) {
	b, v, err := o.StateStore.Load(ctx)
	if err == nil {
		err = o.StateStore.Save(ctx, o.other, v)
	}
	return b, v, err
}

// TestOverlappingRuns: of two runs that overlap, the one that saves second
// leaves the first one's state as it is, and does not fail: its work stands.
func TestOverlappingRuns(t *testing.T) {
	f := newFixture(t)
	f.api.Add(jobsapitest.Job{ID: "nocallback1", CreatedAt: f.now.Add(-time.Hour), Status: "done", Transcripts: transcripts(t),
		Errors: []string{"Sending notification failed"}, Notifications: []jobsapitest.Notification{ours("transcript")}})
	other := []byte(`{"version":1,"watermark":"2026-01-02T03:04:05Z","jobs":{}}`)
	store := f.cfg.State
	f.cfg.State = &overlapped{StateStore: store, other: other}
	f.run()
	if got, _, err := store.Load(context.Background()); err != nil || !bytes.Equal(got, other) {
		t.Errorf("got state %s, %v, want the other run's %s", got, err, other)
	}
	if len(f.events()) != 1 || !strings.Contains(f.logs.String(), "another run saved the state first") {
		t.Errorf("got %d events and log %s, want the job reconciled and the lost save logged", len(f.events()), f.logs.String())
	}
}
