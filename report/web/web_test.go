package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

func TestServerGuards(t *testing.T) {
	// Beyond loopback without a token: refused before listening.
	if err := (&Server{Addr: "0.0.0.0:0"}).Start(); !errors.Is(err, ErrTokenRequired) {
		t.Errorf("Start(0.0.0.0:0) without a token = %v; want ErrTokenRequired", err)
	}
	if err := (&Server{Addr: "nonsense"}).Start(); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("Start(nonsense) = %v; want an error naming it", err)
	}
	stopped := 0
	s := &Server{Addr: "127.0.0.1:0", Token: "s3cret", Metrics: NewMetrics(0), Stop: func() { stopped++ },
		Page: func() *report.HTMLReport {
			return &report.HTMLReport{Summary: report.NewAggregator(report.RunInfo{}).Summary()}
		}}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	base := "http://" + s.ln.Addr().String()
	for _, tt := range []struct {
		name, method, path, host, auth, control string
		want                                    int
	}{
		// No token: refused.
		{"no token", "GET", "/metrics", "", "", "", 401},
		// A wrong token: refused.
		{"wrong token", "GET", "/metrics?token=nope", "", "", "", 401},
		// The token as a query (the page and its event stream).
		{"query token", "GET", "/metrics?token=s3cret", "", "", "", 200},
		// The token as a bearer header (a Prometheus scrape config).
		{"bearer", "GET", "/metrics", "", "Bearer s3cret", "", 200},
		// A host name in Host: DNS rebinding, refused.
		{"rebinding", "GET", "/?token=s3cret", "evil.example:80", "", "", 403},
		// Control without its header: a cross-origin form post, refused.
		{"csrf", "POST", "/control/stop?token=s3cret", "", "", "", 403},
		// Control with it: accepted.
		{"stop", "POST", "/control/stop?token=s3cret", "", "", "1", 202},
		// The live page.
		{"page", "GET", "/?token=s3cret", "", "", "", 200},
		// The status.
		{"status", "GET", "/status?token=s3cret", "", "", "", 200},
	} {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		if tt.host != "" {
			req.Host = tt.host
		}
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		if tt.control != "" {
			req.Header.Set("X-Surge-Control", tt.control)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %s %s = %d; want %d", tt.name, tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
	if stopped != 1 {
		t.Errorf("stops = %d; want 1", stopped)
	}
}

// TestMetricsBoundedRoutes: past MaxRouteLabels route groups, the rest
// share "other"; counts stay whole.
func TestMetricsBoundedRoutes(t *testing.T) {
	m := NewMetrics(time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := MaxRouteLabels + 50
	for i := range n {
		sent := t0.Add(time.Duration(i) * time.Millisecond)
		r := schema.Result{Intended: sent, Sent: &sent, Route: fmt.Sprintf("GET /r%d", i), Status: 200, LatencyNS: 1e6, Session: fmt.Sprint(i % 7)}
		if i%10 == 0 {
			r.Status = 503
		}
		if i%25 == 0 {
			r.Error, r.Sent = schema.DroppedDeadline, nil
		}
		m.Observe(&r)
	}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf
	}
	total := func(name string) (sum float64, series int) {
		for _, mt := range got[name].GetMetric() {
			sum += mt.GetCounter().GetValue()
			series++
		}
		return
	}
	if sum, series := total("surge_requests_scheduled_total"); sum != float64(n) || series != MaxRouteLabels+1 {
		t.Errorf("scheduled = %g in %d series; want %d in %d", sum, series, n, MaxRouteLabels+1)
	}
	if sum, _ := total("surge_requests_dropped_total"); sum != float64((n+24)/25) {
		t.Errorf("dropped = %g; want %d", sum, (n+24)/25)
	}
	if got["surge_live_sessions"].GetMetric()[0].GetGauge().GetValue() != 7 {
		t.Errorf("live sessions = %v; want 7", got["surge_live_sessions"].GetMetric()[0].GetGauge().GetValue())
	}
}
