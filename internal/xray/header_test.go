package xray

import (
	"context"
	"errors"
	"testing"
)

const (
	testRoot   = "1-5759e988-bd862e3fe1be46a994272793"
	testParent = "53995c3f42cd8ad8"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name, in string
		want     Header
		wantErr  bool
	}{
		{"sampled", "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=1", Header{testRoot, testParent, true}, false},
		{"unsampled", "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=0", Header{testRoot, testParent, false}, false},
		{"undecided", "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=?", Header{testRoot, testParent, false}, false},
		{"no sampling decision", "Root=" + testRoot + ";Parent=" + testParent, Header{testRoot, testParent, false}, false},
		{"no parent", "Root=" + testRoot + ";Sampled=1", Header{testRoot, "", true}, false},
		{"other order, spaces, lineage", " Sampled=1; Lineage=a87bd80c:1|68fd508a:5 ;Parent=" + testParent + "; Root=" + testRoot,
			Header{testRoot, testParent, true}, false},
		{"upper-case hex", "Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995C3F42CD8AD8;Sampled=1",
			Header{"1-5759E988-BD862E3FE1BE46A994272793", "53995C3F42CD8AD8", true}, false},
		{"empty", "", Header{}, true},
		{"missing root", "Parent=" + testParent + ";Sampled=1", Header{}, true},
		{"root of version 2", "Root=2-5759e988-bd862e3fe1be46a994272793;Sampled=1", Header{}, true},
		{"short root", "Root=1-5759e988-bd862e3fe1;Sampled=1", Header{}, true},
		{"root not hex", "Root=1-5759e988-bd862e3fe1be46a99427279x;Sampled=1", Header{}, true},
		{"short parent", "Root=" + testRoot + ";Parent=53995c3f;Sampled=1", Header{}, true},
		{"parent not hex", "Root=" + testRoot + ";Parent=53995c3f42cd8adz;Sampled=1", Header{}, true},
		{"bad sampled", "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=yes", Header{}, true},
		{"garbage", "not a header at all", Header{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformedHeader) {
				t.Errorf("error: got %v, want one wrapping ErrMalformedHeader", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHeaderString(t *testing.T) {
	tests := []struct {
		in   Header
		want string
	}{
		{Header{testRoot, testParent, true}, "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=1"},
		{Header{testRoot, testParent, false}, "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=0"},
		{Header{testRoot, "", true}, "Root=" + testRoot + ";Sampled=1"},
	}
	for _, tt := range tests {
		got := tt.in.String()
		if got != tt.want {
			t.Errorf("got %v, want %v", got, tt.want)
		}
		back, err := ParseHeader(got)
		if err != nil || back != tt.in {
			t.Errorf("parsed back: got %+v, %v, want %+v", back, err, tt.in)
		}
	}
}

func TestHeaderFromContext(t *testing.T) {
	sampled := "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=1"
	tests := []struct {
		name   string
		ctx    context.Context
		want   Header
		wantOK bool
	}{
		{"aws-lambda-go's key", context.WithValue(context.Background(), "x-amzn-trace-id", sampled), Header{testRoot, testParent, true}, true},
		{"ContextWithHeader", ContextWithHeader(context.Background(), sampled), Header{testRoot, testParent, true}, true},
		{"unsampled", ContextWithHeader(context.Background(), "Root="+testRoot+";Parent="+testParent+";Sampled=0"), Header{testRoot, testParent, false}, true},
		{"missing", context.Background(), Header{}, false},
		{"empty", ContextWithHeader(context.Background(), ""), Header{}, false},
		{"malformed", ContextWithHeader(context.Background(), "Root=nonsense;Sampled=1"), Header{}, false},
		{"not a string", context.WithValue(context.Background(), "x-amzn-trace-id", 42), Header{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := HeaderFromContext(tt.ctx)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %+v, %v, want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseHeaderAllocates(t *testing.T) {
	s := "Root=" + testRoot + ";Parent=" + testParent + ";Sampled=1"
	got := testing.AllocsPerRun(100, func() { ParseHeader(s) })
	if got != 0 {
		t.Errorf("allocations per parse: got %v, want %v", got, 0)
	}
}
