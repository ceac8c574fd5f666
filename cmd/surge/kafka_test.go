package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
)

// pathRecorder is a loopback target that records every request's URI.
type pathRecorder struct {
	mu   sync.Mutex
	uris []string
}

func (p *pathRecorder) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.uris = append(p.uris, r.Method+" "+r.URL.RequestURI())
		p.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// take returns the recorded URIs sorted and forgets them.
func (p *pathRecorder) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.uris
	p.uris = nil
	slices.Sort(u)
	return u
}

// TestKafkaImportReplay imports the combined sample to a topic and to a
// Parquet file, and replays the same window from both against a loopback
// server: the same requests arrive (count and multiset of method and URI),
// and the window holds exactly the events inspect counts in it.
func TestKafkaImportReplay(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	topic := kafkatest.Topic(t, brokers, 6, "").String()
	parquet := filepath.Join(t.TempDir(), "night.parquet")
	log := sample + "match-night-combined.log.gz"
	_, errs, err := surge(t, "import", "combined", log, "-o", topic)
	if err != nil || !strings.Contains(errs, "imported 46,497 events") {
		t.Fatalf("import to %s: %v\n%s", topic, err, errs)
	}
	mustSurge(t, "import", "combined", log, "-o", parquet)

	// inspect gives the topic's size and time range.
	var ks struct {
		Events     int64            `json:"events"`
		First      time.Time        `json:"first"`
		Partitions []kafkaPartition `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(mustSurge(t, "inspect", "--json", topic)), &ks); err != nil {
		t.Fatal(err)
	}
	var ps struct {
		Events int64     `json:"events"`
		First  time.Time `json:"first"`
	}
	json.Unmarshal([]byte(mustSurge(t, "inspect", "--json", parquet)), &ps)
	if ks.Events != ps.Events || !ks.First.Equal(ps.First) || len(ks.Partitions) != 6 {
		t.Errorf("inspect %s: %d events from %s in %d partitions; the Parquet file has %d from %s, 6 partitions",
			topic, ks.Events, ks.First, len(ks.Partitions), ps.Events, ps.First)
	}

	// A window with bounds between events (sub-second times).
	t1 := ps.First.Add(5*time.Minute + 300*time.Millisecond).Format(time.RFC3339Nano)
	t2 := ps.First.Add(7*time.Minute + 700*time.Millisecond).Format(time.RFC3339Nano)
	var inWindow struct {
		Events int64 `json:"events"`
	}
	json.Unmarshal([]byte(mustSurge(t, "inspect", "--json", "--from", t1, "--to", t2, parquet)), &inWindow)

	rec := &pathRecorder{}
	srv := rec.server(t)
	run := func(capture string) ([]string, summaryFacts) {
		summary := filepath.Join(t.TempDir(), "summary.json")
		// Never drop a late request: under -race on a busy machine the
		// generator may fall behind, which must not change what is sent.
		_, errs, err := surge(t, "replay", "--from", capture, "--window-from", t1, "--window-to", t2, "--speed", "30",
			"--max-lateness", "-1s", "--target", srv.URL, "--progress", "none", "--summary-json", summary)
		if err := unlessBehind(err); err != nil {
			t.Fatalf("replay from %s: %v\n%s", capture, err, errs)
		}
		b, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		return rec.take(), readSummary(t, b)
	}
	fromParquet, ps1 := run(parquet)
	fromKafka, ks1 := run(topic)
	if ks1.Scheduled != inWindow.Events || ps1.Scheduled != inWindow.Events {
		t.Errorf("scheduled %d from the topic, %d from the file; the window holds %d events", ks1.Scheduled, ps1.Scheduled, inWindow.Events)
	}
	if len(fromKafka) != len(fromParquet) || len(fromKafka) == 0 || ks1.Sent != ps1.Sent {
		t.Fatalf("the target saw %d requests from the topic, %d from the file (sent %d, %d)", len(fromKafka), len(fromParquet), ks1.Sent, ps1.Sent)
	}
	t.Logf("window %s to %s: %d events; %d requests from each capture", t1, t2, inWindow.Events, len(fromKafka))
	if !slices.Equal(fromKafka, fromParquet) {
		for i := range fromKafka {
			if fromKafka[i] != fromParquet[i] {
				t.Fatalf("requests differ: sorted #%d is %q from the topic, %q from the file", i, fromKafka[i], fromParquet[i])
			}
		}
	}

	// tail prints the topic's events, one a line, in text and JSON.
	out := mustSurge(t, "kafka", "tail", topic, "--from-beginning", "-n", "25")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 25 || !strings.Contains(lines[0], " GET http") && !strings.Contains(lines[0], " POST http") {
		t.Errorf("kafka tail -n 25 printed %d lines:\n%s", len(lines), clip([]byte(out)))
	}
	out = mustSurge(t, "kafka", "tail", strings.TrimPrefix(topic[strings.LastIndex(topic, "/")+1:], "/"),
		"--brokers", strings.Join(brokers, ","), "--since", ps.First.Add(29*time.Minute).Format(time.RFC3339), "-n", "3", "--format", "json")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct {
			Time time.Time `json:"time"`
			Path string    `json:"path"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Path == "" || e.Time.Before(ps.First.Add(29*time.Minute)) {
			t.Errorf("kafka tail --format json --since: line %q (%v); want an event of the last minute", l, err)
		}
	}
}

func TestKafkaRefusals(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	tests := []struct {
		name string
		args []string
		want string
	}{
		// Viewing events are not exchanges: no topic holds them.
		{"views", []string{"import", "views", sample + "views.jsonl", "-o", "kafka://127.0.0.1:9092/v"}, "holds exchanges"},
		// A bad address is named.
		{"address", []string{"import", "combined", sample + "match-night-combined.log.gz", "-o", "kafka://127.0.0.1/t"}, "HOST:PORT"},
		// A topic is replayed alone.
		{"mixed", []string{"replay", "--from", "kafka://127.0.0.1:9092/t", "--from", "x.parquet", "--target", "http://127.0.0.1:9"}, "read alone"},
		// Tail options.
		{"tail since", []string{"kafka", "tail", "t", "--since", "yesterday"}, "--since"},
		{"tail both", []string{"kafka", "tail", "t", "--since", "5m", "--from-beginning"}, "exclude"},
		{"tail format", []string{"kafka", "tail", "t", "--format", "xml"}, "--format"},
	}
	for _, tt := range tests {
		_, _, err := surge(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: surge %s = %v; want an error containing %q", tt.name, strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

func TestTailLine(t *testing.T) {
	r := &kafkalog.Record{Partition: 3, Offset: 1234, Exchange: schema.Exchange{
		Time: time.Date(2026, 11, 21, 20, 15, 3, 5e8, time.UTC), Session: "s_1", Method: "GET",
		Scheme: "https", Host: "api.example.com", Path: "/v1/play", Query: "id=3", Status: schema.Int32(200),
	}}
	tests := []struct {
		name string
		edit func(*schema.Exchange)
		want string
	}{
		{"full", func(*schema.Exchange) {}, "2026-11-21T20:15:03.5Z 3/1234 s_1 GET https://api.example.com/v1/play?id=3 200"},                                        // every part
		{"no status, no query", func(e *schema.Exchange) { e.Status, e.Query = nil, "" }, "2026-11-21T20:15:03.5Z 3/1234 s_1 GET https://api.example.com/v1/play -"}, // a dash for the status
	}
	for _, tt := range tests {
		c := *r
		tt.edit(&c.Exchange)
		if got := tailLine(&c); got != tt.want {
			t.Errorf("%s: tailLine = %q; want %q", tt.name, got, tt.want)
		}
	}
}
