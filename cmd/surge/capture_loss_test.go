package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

func TestCaptureLossNote(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta string // _surge.json content; "" writes none
		want string
	}{
		// a capture that lost events: the replay says how many
		{"lost", `{"surge.capture_loss":"{\"exchanges\":900,\"frames\":0,\"dropped\":100}"}`,
			"capture loss: 100 of 1000 events (10.00%) were dropped when the capture was recorded; the replayed rates are low by that much\n"},
		// nothing lost: nothing said
		{"none lost", `{"surge.capture_loss":"{\"exchanges\":900,\"dropped\":0}"}`, ""},
		// an import, not a tap: nothing said
		{"no tap", `{"surge.import_report":"{}"}`, ""},
		// no metadata at all
		{"no metadata", "", ""},
	} {
		dir := t.TempDir()
		if tc.meta != "" {
			os.WriteFile(filepath.Join(dir, eventlog.DatasetMeta), []byte(tc.meta), 0o644)
		}
		if got := captureLossNote([]string{dir}); got != tc.want {
			t.Errorf("%s: captureLossNote = %q; want %q", tc.name, got, tc.want)
		}
	}
}

// TestCaptureLossInResults: the loss of a replayed capture is carried into
// the results' metadata (RunInfo.CaptureLoss) and stated by the run's
// text and HTML reports and by surge report of the results.
func TestCaptureLossInResults(t *testing.T) {
	dir := t.TempDir()
	w, err := eventlog.Create[schema.Exchange](filepath.Join(dir, "part-0.parquet"), eventlog.WriterConfig{Source: "proxy"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		w.Add(&schema.Exchange{Time: t0.Add(time.Duration(i) * 20 * time.Millisecond), Session: "s_1", Seq: int32(i), Method: "GET", Scheme: "http", Host: "h", Path: "/x", Protocol: schema.ProtoHTTP11, Source: "proxy"})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, eventlog.DatasetMeta), []byte(`{"surge.capture_loss":"{\"exchanges\":900,\"frames\":0,\"dropped\":100}"}`), 0o644)
	target, _ := recordingTarget(t)
	out := t.TempDir()
	results, html := filepath.Join(out, "r.parquet"), filepath.Join(out, "r.html")
	stdout, stderr, err := surge(t, "replay", "--from", dir, "--target", target.URL, "--progress", "none", "--results", results, "--html", html)
	if err := unlessBehind(err); err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	const want = "100 of 1000 events (10.00%) were dropped"
	if !strings.Contains(stdout, "capture loss  "+want) {
		t.Errorf("the run's report does not state the capture loss:\n%s", stdout)
	}
	info, err := eventlog.Stat(results)
	if err != nil {
		t.Fatal(err)
	}
	ri, err := report.RunInfoFrom(info.Metadata)
	if err != nil || ri.CaptureLoss == nil || *ri.CaptureLoss != (report.CaptureLoss{Dropped: 100, Seen: 1000}) {
		t.Errorf("results RunInfo capture loss = %+v, %v; want 100 of 1000", ri.CaptureLoss, err)
	}
	if b, _ := os.ReadFile(html); !strings.Contains(string(b), `id="capture-loss"`) || !strings.Contains(string(b), want) {
		t.Errorf("the HTML report does not state the capture loss")
	}
	if text := mustSurge(t, "report", results); !strings.Contains(text, want) {
		t.Errorf("surge report of the results does not state the capture loss:\n%s", text)
	}
}
