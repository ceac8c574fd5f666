package capture

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

var key = []byte("test-key")

var t0 = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)

// hits is a Decoder over a fixed list; an entry with a nil hit yields a
// RecordError.
func hits(name string, list ...*Hit) Input {
	i := 0
	return Input{Name: name, Decode: func(h *Hit) error {
		if i == len(list) {
			return io.EOF
		}
		src := list[i]
		i++
		if src == nil {
			return &RecordError{Pos: Position{File: name, Line: int64(i)}, Reason: "bad"}
		}
		*h = *src
		h.Exchange.Headers = append([]schema.Header(nil), src.Exchange.Headers...)
		return nil
	}}
}

// hit is a GET of path at t0+at from client, written to the log at
// t0+at+latency.
func hit(client, path string, at, latency time.Duration, headers ...string) *Hit {
	h := &Hit{Client: client, LogTime: t0.Add(at + latency)}
	h.Exchange = schema.Exchange{Time: t0.Add(at), Method: "GET", Path: path, Source: "test"}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Exchange.Headers = append(h.Exchange.Headers, schema.Header{Name: headers[i], Value: headers[i+1]})
	}
	return h
}

func run(t *testing.T, opts Options, inputs ...Input) ([]schema.Exchange, *Report) {
	t.Helper()
	if opts.Scrub.Key == nil {
		opts.Scrub.Key = key
	}
	var out []schema.Exchange
	rep, err := Import(context.Background(), inputs, opts, func(e *schema.Exchange) error {
		out = append(out, *e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, rep
}

func TestSessionization(t *testing.T) {
	ua := "User-Agent"
	tests := []struct {
		name     string
		opts     Options
		in       []*Hit
		sessions []int // session number of each output event, in order
		seqs     []int32
	}{
		// Same client and agent: one session, in order.
		{"one client", Options{}, []*Hit{
			hit("a", "/1", 0, 0, ua, "tv"), hit("a", "/2", time.Second, 0, ua, "tv"),
		}, []int{0, 0}, []int32{0, 1}},
		// Same address, different agents: two sessions.
		{"two agents", Options{}, []*Hit{
			hit("a", "/1", 0, 0, ua, "tv"), hit("a", "/2", time.Second, 0, ua, "phone"),
		}, []int{0, 1}, []int32{0, 0}},
		// Idle longer than the gap: a new session.
		{"idle gap", Options{IdleGap: time.Minute}, []*Hit{
			hit("a", "/1", 0, 0), hit("a", "/2", 30*time.Second, 0), hit("a", "/3", 2*time.Minute, 0),
		}, []int{0, 0, 1}, []int32{0, 1, 0}},
		// A cookie key joins clients that changed address.
		{"cookie key", Options{Session: SessionKey{"cookie", "sid"}}, []*Hit{
			hit("a", "/1", 0, 0, "Cookie", "x=1; sid=abc"), hit("b", "/2", time.Second, 0, "Cookie", "sid=abc"),
			hit("a", "/3", 2*time.Second, 0, "Cookie", "sid=zzz"),
		}, []int{0, 0, 1}, []int32{0, 1, 0}},
		// A header key.
		{"header key", Options{Session: SessionKey{"header", "X-Session"}}, []*Hit{
			hit("a", "/1", 0, 0, "X-Session", "1"), hit("a", "/2", time.Second, 0, "X-Session", "2"),
		}, []int{0, 1}, []int32{0, 0}},
		// A query key.
		{"query key", Options{Session: SessionKey{"query", "sid"}}, []*Hit{
			func() *Hit { h := hit("a", "/1", 0, 0); h.Exchange.Query = "sid=9&x=1"; return h }(),
			func() *Hit { h := hit("b", "/2", 1, 0); h.Exchange.Query = "sid=9"; return h }(),
		}, []int{0, 0}, []int32{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, rep := run(t, tt.opts, hits("in", tt.in...))
			if len(out) != len(tt.in) {
				t.Fatalf("got %d events; want %d", len(out), len(tt.in))
			}
			ids := map[string]int{}
			for i, e := range out {
				n, ok := ids[e.Session]
				if !ok {
					n = len(ids)
					ids[e.Session] = n
				}
				if n != tt.sessions[i] || e.Seq != tt.seqs[i] {
					t.Errorf("event %d (%s): session #%d seq %d; want #%d seq %d", i, e.Path, n, e.Seq, tt.sessions[i], tt.seqs[i])
				}
				if !strings.HasPrefix(e.Session, "s_") {
					t.Errorf("session id %q is not a keyed hash", e.Session)
				}
			}
			if rep.Sessions != int64(len(ids)) {
				t.Errorf("report sessions = %d; want %d", rep.Sessions, len(ids))
			}
		})
	}
}

func TestReorderByRequestStart(t *testing.T) {
	// Lines are written at response end: the slow first request is logged
	// after the two fast ones that started later.
	in := []*Hit{
		hit("a", "/fast1", 1*time.Second, 100*time.Millisecond),
		hit("b", "/fast2", 2*time.Second, 100*time.Millisecond),
		hit("c", "/slow", 0, 5*time.Second),
	}
	out, rep := run(t, Options{}, hits("log", in...))
	var got []string
	for _, e := range out {
		got = append(got, e.Path)
	}
	if strings.Join(got, " ") != "/slow /fast1 /fast2" {
		t.Errorf("order = %v; want /slow /fast1 /fast2", got)
	}
	if rep.Disordered != 1 || rep.MaxDisorderMS != 2000 || rep.Late != 0 {
		t.Errorf("disordered %d max %d ms late %d; want 1, 2000, 0", rep.Disordered, rep.MaxDisorderMS, rep.Late)
	}
	// With a window shorter than the disorder, the slow request is late.
	_, rep = run(t, Options{ReorderWindow: time.Second}, hits("log", in...))
	if rep.Late != 1 {
		t.Errorf("late = %d with a 1 s window; want 1", rep.Late)
	}
}

func TestInputsMergeByLogTime(t *testing.T) {
	a := hits("a.log", hit("a", "/a1", 0, 0), hit("a", "/a2", 2*time.Second, 0))
	b := hits("b.log", hit("b", "/b1", time.Second, 0), hit("b", "/b2", 3*time.Second, 0))
	out, rep := run(t, Options{}, a, b)
	var got []string
	for _, e := range out {
		got = append(got, e.Path)
	}
	if strings.Join(got, " ") != "/a1 /b1 /a2 /b2" || rep.Disordered != 0 {
		t.Errorf("order = %v, disordered %d; want /a1 /b1 /a2 /b2 and 0", got, rep.Disordered)
	}
}

func TestBadRecordsSkippedOrStrict(t *testing.T) {
	in := []*Hit{hit("a", "/1", 0, 0), nil, hit("a", "/3", time.Second, 0), nil}
	out, rep := run(t, Options{MaxProblems: 1}, hits("x.log", in...))
	if len(out) != 2 || rep.Skipped != 2 || rep.Records != 4 || len(rep.Problems) != 1 || rep.Problems[0].Line != 2 {
		t.Errorf("events %d, report %+v; want 2 events, 4 records, 2 skipped, 1 problem at line 2", len(out), rep)
	}
	_, err := Import(context.Background(), []Input{hits("x.log", in...)}, Options{Strict: true, Scrub: ScrubConfig{Key: key}}, func(*schema.Exchange) error { return nil })
	var re *RecordError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "x.log") {
		t.Errorf("strict import error = %v; want a RecordError naming x.log", err)
	}
}

func TestInvalidEventIsABadRecord(t *testing.T) {
	h := hit("a", "no-slash", 0, 0)
	out, rep := run(t, Options{}, hits("x.log", h))
	if len(out) != 0 || rep.Skipped != 1 || !strings.Contains(rep.Problems[0].Reason, "path") {
		t.Errorf("events %d, report %+v; want the event skipped for its path", len(out), rep)
	}
}

func TestImportNeedsKey(t *testing.T) {
	_, err := Import(context.Background(), nil, Options{}, nil)
	if !errors.Is(err, ErrNoKey) {
		t.Errorf("Import without key = %v; want ErrNoKey", err)
	}
}
