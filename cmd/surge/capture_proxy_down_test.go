package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// timedRequests sends n GETs through url from 4 clients and returns the
// latency of each, and how many failed.
func timedRequests(t *testing.T, url string, n int) ([]time.Duration, int) {
	t.Helper()
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := c; i < n; i += 4 {
				start := time.Now()
				resp, err := client.Get(fmt.Sprintf("%s/item/%d?x=%d", url, i, i))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				if err != nil || resp.StatusCode != 200 {
					failed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	return lat, failed
}

func pct(lat []time.Duration, p float64) time.Duration {
	return lat[min(len(lat)-1, int(p*float64(len(lat))))]
}

// TestCaptureProxyOutputDown: with the output failing (a Parquet directory
// whose partitions cannot be made; a Kafka address where no broker
// listens) every request succeeds, no slower than with the output up, and
// the lost events are counted in /metrics and in the capture's metadata.
func TestCaptureProxyOutputDown(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	upstream, _ := recordingTarget(t)
	const n = 400
	run := func(t *testing.T, output string, wantDrops bool) (*runningProxy, []time.Duration) {
		p := startProxy(t, "--upstream", upstream.URL, "-o", output, "--reorder-window", "10ms", "--flush-interval", "50ms", "--queue", "64")
		lat, failed := timedRequests(t, p.url, n)
		if failed != 0 {
			t.Fatalf("%d of %d requests failed through the proxy", failed, n)
		}
		if !wantDrops {
			return p, lat
		}
		// Drops are counted when the recorder meets the failure: wait for
		// every event to be accounted for.
		deadline := time.Now().Add(20 * time.Second)
		for {
			got := p.metric(t, `surge_capture_events_total{kind="exchange"}`)
			for _, r := range []string{"queue_full", "output"} {
				got += p.metric(t, `surge_capture_dropped_events_total{reason="`+r+`"}`)
			}
			if got >= n && p.metric(t, `surge_capture_dropped_events_total{reason="output"}`) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 20s, %v of %d events accounted for in /metrics", got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if p.metric(t, "surge_capture_output_errors_total") == 0 {
			t.Error("no output errors in /metrics")
		}
		return p, lat
	}
	upDir := filepath.Join(t.TempDir(), "up")
	pUp, up := run(t, upDir, false)
	pUp.stop(t)

	t.Run("parquet", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cap")
		os.MkdirAll(dir, 0o755)
		// Files where today's and tomorrow's partition directories go:
		// every part fails to be created.
		for _, d := range []time.Time{time.Now().UTC(), time.Now().UTC().Add(24 * time.Hour)} {
			os.WriteFile(filepath.Join(dir, "dt="+d.Format(time.DateOnly)), nil, 0o644)
		}
		p, down := run(t, dir, true)
		p.stop(t)
		meta, err := eventlog.ReadDatasetMeta(dir)
		if err != nil {
			t.Fatal(err)
		}
		var loss struct{ Exchanges, Dropped int64 }
		if err := json.Unmarshal([]byte(meta[schema.MetaCaptureLoss]), &loss); err != nil || loss.Dropped != n || loss.Exchanges != 0 {
			t.Errorf("capture loss in %s: %q (%v); want all %d dropped", eventlog.DatasetMeta, meta[schema.MetaCaptureLoss], err, n)
		}
		compareLatency(t, up, down)
	})
	t.Run("kafka", func(t *testing.T) {
		p, down := run(t, "kafka://"+freeAddr(t)+"/captures", true)
		// The final loss report cannot reach a broker either: the exit
		// says so.
		if err := p.stopErr(t); err == nil || !strings.Contains(err.Error(), "closing the output") {
			t.Errorf("stop with no broker = %v; want the output's error", err)
		}
		if !strings.Contains(p.stderr.String(), "0 exchanges and 0 frames recorded, 400 events dropped") {
			t.Errorf("stderr does not count the loss:\n%s", p.stderr)
		}
		compareLatency(t, up, down)
	})
}

// compareLatency logs the latency through the tap with the output up and
// down, and fails when the down one is slower by more than a loaded
// machine's noise (a blocked request would take the output's timeouts:
// seconds).
func compareLatency(t *testing.T, up, down []time.Duration) {
	t.Helper()
	t.Logf("latency through the tap, output up: p50 %v p99 %v; output down: p50 %v p99 %v",
		pct(up, .5), pct(up, .99), pct(down, .5), pct(down, .99))
	if pct(down, .5) > 5*pct(up, .5)+100*time.Millisecond || pct(down, .99) > 5*pct(up, .99)+300*time.Millisecond {
		t.Errorf("requests slower with the output down")
	}
}
