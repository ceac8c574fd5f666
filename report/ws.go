package report

import (
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/surge-replay/surge/schema"
)

// wsAgg folds the WebSocket connection rows of results (schema.WebSocket):
// handshakes, lives, messages and bytes each way, closes, the per
// connection send lateness and the ordering and staleness checks.
type wsAgg struct {
	rows, opened, failed, reconnects    int64
	handshake, duration, late, stale    dense
	framesOut, framesIn, bytesOut       int64
	bytesIn, skipped                    int64
	gaps, dups, regs, silences, staleRe int64
	closeBy, closeCode                  map[string]int64

	// From the engine (SetWebSocket): every message's lateness and
	// staleness, in nanoseconds; nil when only rows were seen.
	frameLate, frameStale *hdr.Histogram
	gaveUp                int64
}

func newWSAgg() *wsAgg {
	return &wsAgg{handshake: newDense(), duration: newDense(), late: newDense(), stale: newDense(),
		closeBy: map[string]int64{}, closeCode: map[string]int64{}}
}

// add folds one WebSocket row.
func (w *wsAgg) add(r *schema.Result) {
	w.rows++
	if r.WSAttempt > 0 {
		w.reconnects++
	}
	if r.Status != 101 || r.Error != "" {
		w.failed++
		return
	}
	w.opened++
	w.handshake.record(r.LatencyNS)
	w.duration.record(r.WSDurationNS)
	w.framesOut += r.WSFramesOut
	w.framesIn += r.WSFramesIn
	w.bytesOut += r.WSBytesOut
	w.bytesIn += r.WSBytesIn
	w.skipped += r.WSSkipped
	if r.WSFramesOut > 0 {
		w.late.record(r.WSLateMaxNS)
	}
	if r.WSStaleMaxNS > 0 {
		w.stale.record(r.WSStaleMaxNS)
	}
	w.gaps += r.WSGaps
	w.dups += r.WSDuplicates
	w.regs += r.WSRegressions
	w.silences += r.WSSilences
	if r.WSStaleOnReconnect {
		w.staleRe++
	}
	if r.WSCloseBy != "" {
		w.closeBy[r.WSCloseBy]++
	}
	if r.WSCloseCode != 0 {
		w.closeCode[strconv.Itoa(int(r.WSCloseCode))]++
	}
}

// SetWebSocket gives the report what the replay engine measured per
// message (replay.WSStats): the send lateness of every client message and
// the staleness of every checked server message (histograms in
// nanoseconds), and the clients that gave up reconnecting. Without it
// (surge report over a results file) the lateness and staleness are those
// of the connections' maxima.
func (a *Aggregator) SetWebSocket(lateness, staleness *hdr.Histogram, gaveUp int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ws == nil {
		a.ws = newWSAgg()
	}
	a.ws.frameLate, a.ws.frameStale, a.ws.gaveUp = lateness, staleness, gaveUp
}

// WebSocketSummary is the report of a run's WebSocket connections, each
// connection attempt one row of the results. Times are in milliseconds.
//
// SendLateness is of every client message when the run measured them
// (Of: "messages"), else of each connection's worst message (Of:
// "connections", recomputed from results); Staleness likewise (receive time
// − producer time of checked server messages).
type WebSocketSummary struct {
	Connections int64       `json:"connections"` // attempts: rows
	Opened      int64       `json:"opened"`      // got a 101
	Failed      int64       `json:"failed"`      // refused or failed handshakes
	Reconnects  int64       `json:"reconnects"`  // attempts after the first
	GaveUp      int64       `json:"gave_up"`     // clients whose policy gave up
	Handshake   Percentiles `json:"handshake_ms"`
	Duration    Percentiles `json:"duration_ms"`
	FramesOut   int64       `json:"frames_out"`
	FramesIn    int64       `json:"frames_in"`
	BytesOut    int64       `json:"bytes_out"`
	BytesIn     int64       `json:"bytes_in"`
	Skipped     int64       `json:"skipped"` // recorded client messages not sent
	// SendLateness is the generator's: a client message's send time minus
	// its recorded offset (scaled by speed).
	SendLateness Lateness         `json:"send_lateness_ms"`
	LatenessOf   string           `json:"lateness_of"`
	CloseBy      map[string]int64 `json:"close_by"`
	CloseCodes   map[string]int64 `json:"close_codes"`
	Checks       WSChecks         `json:"checks"`
}

// WSChecks are the totals of the ordering and staleness checks.
type WSChecks struct {
	Gaps             int64    `json:"gaps"`
	Duplicates       int64    `json:"duplicates"`
	Regressions      int64    `json:"regressions"`
	Silences         int64    `json:"silences"`
	StaleOnReconnect int64    `json:"stale_on_reconnect"`
	Staleness        Lateness `json:"staleness_ms"`
	StalenessOf      string   `json:"staleness_of,omitempty"`
}

// nsPoints are the points of an engine histogram (nanoseconds) in ms.
func nsPoints(h *hdr.Histogram) Lateness {
	ms := func(ns int64) float64 { return round3(float64(ns) / 1e6) }
	return Lateness{P50: ms(h.ValueAtQuantile(50)), P99: ms(h.ValueAtQuantile(99)), Max: ms(h.Max())}
}

func densePoints(d dense) Lateness {
	return Lateness{P50: quantileMS(d.h, 50, d.max), P99: quantileMS(d.h, 99, d.max), Max: float64(d.max) / 1000}
}

// summary returns the WebSocket report.
func (w *wsAgg) summary() *WebSocketSummary {
	s := &WebSocketSummary{
		Connections: w.rows, Opened: w.opened, Failed: w.failed, Reconnects: w.reconnects, GaveUp: w.gaveUp,
		Handshake: percentiles(w.handshake.h, w.handshake.max), Duration: percentiles(w.duration.h, w.duration.max),
		FramesOut: w.framesOut, FramesIn: w.framesIn, BytesOut: w.bytesOut, BytesIn: w.bytesIn, Skipped: w.skipped,
		CloseBy: maps.Clone(w.closeBy), CloseCodes: maps.Clone(w.closeCode),
		Checks: WSChecks{Gaps: w.gaps, Duplicates: w.dups, Regressions: w.regs, Silences: w.silences, StaleOnReconnect: w.staleRe},
	}
	if w.frameLate != nil && w.frameLate.TotalCount() > 0 {
		s.SendLateness, s.LatenessOf = nsPoints(w.frameLate), "messages"
	} else {
		s.SendLateness, s.LatenessOf = densePoints(w.late), "connections"
	}
	switch {
	case w.frameStale != nil && w.frameStale.TotalCount() > 0:
		s.Checks.Staleness, s.Checks.StalenessOf = nsPoints(w.frameStale), "messages"
	case w.stale.max > 0:
		s.Checks.Staleness, s.Checks.StalenessOf = densePoints(w.stale), "connections"
	}
	return s
}

// writeWebSocket writes the WebSocket section of the text report.
func (s *RunSummary) writeWebSocket(b *strings.Builder) {
	w := s.WebSocket
	if w == nil || w.Connections == 0 {
		return
	}
	fmt.Fprintf(b, "\nwebsocket: %s connections (%s opened, %s failed, %s reconnects, %s gave up)\n",
		count(w.Connections), count(w.Opened), count(w.Failed), count(w.Reconnects), count(w.GaveUp))
	fmt.Fprintf(b, "  handshake  p50 %s  p99 %s  max %s ms\n", millis(w.Handshake.P50), millis(w.Handshake.P99), millis(w.Handshake.Max))
	fmt.Fprintf(b, "  duration   p50 %s  p99 %s  max %s ms\n", millis(w.Duration.P50), millis(w.Duration.P99), millis(w.Duration.Max))
	fmt.Fprintf(b, "  frames     out %s (%s B)  in %s (%s B)  skipped %s\n",
		count(w.FramesOut), count(w.BytesOut), count(w.FramesIn), count(w.BytesIn), count(w.Skipped))
	fmt.Fprintf(b, "  send lateness (of %s)  p50 %s  p99 %s  max %s ms\n", w.LatenessOf,
		millis(w.SendLateness.P50), millis(w.SendLateness.P99), millis(w.SendLateness.Max))
	fmt.Fprintf(b, "  closed by  %s   codes %s\n", countsLine(w.CloseBy), countsLine(w.CloseCodes))
	c := w.Checks
	if c.Gaps+c.Duplicates+c.Regressions+c.Silences+c.StaleOnReconnect > 0 || c.StalenessOf != "" {
		fmt.Fprintf(b, "  checks     gaps %s  duplicates %s  regressions %s  silences %s  stale on reconnect %s\n",
			count(c.Gaps), count(c.Duplicates), count(c.Regressions), count(c.Silences), count(c.StaleOnReconnect))
		if c.StalenessOf != "" {
			fmt.Fprintf(b, "  staleness (of %s)  p50 %s  p99 %s  max %s ms\n", c.StalenessOf,
				millis(c.Staleness.P50), millis(c.Staleness.P99), millis(c.Staleness.Max))
		}
	}
}

// countsLine writes "a 3, b 1" in key order; "-" when empty.
func countsLine(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + count(m[k])
	}
	return strings.Join(parts, ", ")
}
