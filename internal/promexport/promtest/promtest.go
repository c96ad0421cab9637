// Package promtest scrapes a Prometheus endpoint the way Prometheus does,
// for tests.
package promtest

import (
	"io"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape fetches url and parses the answer with the Prometheus text parser,
// failing the test on anything else than a 200 in that format.
func Scrape(tb testing.TB, url string) map[string]*dto.MetricFamily {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("parse %s: %v", url, err)
	}
	return families
}

// Counter returns the value of the family's counter whose label is value,
// or of its only counter when label is "", and whether there is one.
func Counter(f *dto.MetricFamily, label, value string) (float64, bool) {
	if f == nil || f.GetType() != dto.MetricType_COUNTER {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if label == "" {
			return m.GetCounter().GetValue(), true
		}
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}
