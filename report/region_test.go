package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestRegionSplit: the summary splits counts, errors by class and latency
// by region, in JSON and text; a run without regions has no split.
func TestRegionSplit(t *testing.T) {
	start := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	agg := NewAggregator(RunInfo{Target: "http://api.surge.test", Start: start})
	tl := NewTimeline(start)
	add := func(region string, n int, lat time.Duration, status int32, class, detail string) {
		for i := 0; i < n; i++ {
			sent := start.Add(time.Duration(i) * time.Millisecond)
			r := &schema.Result{Intended: sent, LatencyNS: int64(lat), ServiceNS: int64(lat), Status: status,
				Error: class, Detail: detail, Region: region, Method: "GET", Route: "GET /play"}
			if class == "" {
				r.Sent = &sent
			}
			agg.Add(r)
			tl.Add(r)
		}
	}
	add("eu", 60, 10*time.Millisecond, 200, "", "")
	add("us", 30, 40*time.Millisecond, 200, "", "")
	add("us", 10, time.Millisecond, 0, schema.ErrDNS, "nxdomain")
	add("", 5, 5*time.Millisecond, 200, "", "")
	s := agg.Summary()
	if len(s.Regions) != 3 {
		t.Fatalf("Regions = %+v; want eu, us, -", s.Regions)
	}
	eu, us, none := s.Regions[0], s.Regions[1], s.Regions[2]
	if eu.Region != "eu" || eu.Scheduled != 60 || eu.Errors != 0 || eu.Latency.P50 < 9.9 || eu.Latency.P50 > 10.1 {
		t.Errorf("eu = %+v; want 60 scheduled, no errors, p50 10 ms", eu)
	}
	if us.Region != "us" || us.Scheduled != 40 || us.Errors != 10 || us.ErrorsBy[schema.ErrDNS] != 10 || us.Latency.P99 < 39.9 {
		t.Errorf("us = %+v; want 40 scheduled, 10 dns errors, p99 40 ms", us)
	}
	if none.Region != NoRegion || none.Scheduled != 5 {
		t.Errorf("no region = %+v; want 5 scheduled as %q", none, NoRegion)
	}
	if s.Outcome == VerdictUnreachable {
		t.Errorf("verdict %s: dns errors are not the target's", s.Outcome)
	}
	var js bytes.Buffer
	if err := s.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Regions []RegionReport `json:"regions"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Regions) != 3 || back.Regions[1].ErrorsBy["dns"] != 10 {
		t.Errorf("JSON regions = %+v, %v", back.Regions, err)
	}
	var txt bytes.Buffer
	s.WriteText(&txt)
	for _, want := range []string{"regions (latency from intended)", "dns 10", "\n  eu ", "\n  us "} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, txt.String())
		}
	}

	var page bytes.Buffer
	if err := (&HTMLReport{Summary: s, Series: tl.Series()}).WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<table class="sortable" id="regions">`, "<th>error classes</th>", "<td>us</td>", "<td>dns 10</td>"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}

	plain := NewAggregator(RunInfo{Start: start})
	sent := start
	plain.Add(&schema.Result{Intended: start, Sent: &sent, Status: 200, Route: "GET /"})
	if r := plain.Summary().Regions; r != nil {
		t.Errorf("a run without regions: Regions = %+v; want none", r)
	}
}
