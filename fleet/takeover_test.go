package fleet

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	grace := time.Second
	tests := []struct {
		name    string
		w, mark time.Time
		late    string
		dup     bool
		h       handoff
	}{
		// Due in the future, no earlier owner: a plain request.
		{"on time", now.Add(50 * time.Millisecond), time.Time{}, LateSkip, false, onTime},
		// Late by less than the grace: sent as any request.
		{"within grace", now.Add(-900 * time.Millisecond), time.Time{}, LateSkip, false, onTime},
		// At the earlier owner's mark exactly: it sent it; a duplicate.
		{"at mark", now.Add(-500 * time.Millisecond), now.Add(-500 * time.Millisecond), LateSkip, true, onTime},
		// Just after the mark: nobody is known to have sent it.
		{"after mark", now.Add(-400 * time.Millisecond), now.Add(-500 * time.Millisecond), LateSkip, false, onTime},
		// Past the grace, skip policy: not sent.
		{"late skip", now.Add(-3 * time.Second), time.Time{}, LateSkip, false, skipped},
		// Past the grace, send policy: sent late.
		{"late send", now.Add(-3 * time.Second), time.Time{}, LateSend, false, sentLate},
		// Past the grace and before the mark, send policy: a late duplicate.
		{"late dup send", now.Add(-3 * time.Second), now.Add(-2 * time.Second), LateSend, true, sentLate},
	}
	for _, tt := range tests {
		dup, h := classify(tt.w, now, tt.mark, grace, tt.late)
		if dup != tt.dup || h != tt.h {
			t.Errorf("%s: classify = %v, %v; want %v, %v", tt.name, dup, h, tt.dup, tt.h)
		}
	}
}

func TestTakeoverCounts(t *testing.T) {
	var c takeoverCounts
	c.count(true, onTime)   // a duplicate sent on time
	c.count(true, sentLate) // a late duplicate
	c.count(true, skipped)  // skipped: not re-sent, so no duplicate
	c.count(false, skipped) // skipped
	c.count(false, onTime)  // nothing to count
	var r AgentReport
	c.report(&r)
	if r.Duplicates != 2 || r.LateSent != 1 || r.Skipped != 2 {
		t.Errorf("counts = %d duplicates, %d late, %d skipped; want 2, 1, 2", r.Duplicates, r.LateSent, r.Skipped)
	}
}

func TestMark(t *testing.T) {
	m := time.Date(2026, 3, 1, 12, 0, 1, 234567890, time.UTC)
	tests := []struct {
		name string
		meta string
		want time.Time
	}{
		// What formatMark writes reads back to the ns.
		{"round trip", formatMark(m, "a-1"), m},
		// A commit before anything was sent carries no mark.
		{"no mark", formatMark(time.Time{}, "a-1"), time.Time{}},
		// Another program's metadata (or none) is no mark.
		{"foreign", "", time.Time{}},
		// A damaged time is no mark, not an error.
		{"damaged", markPrefix + "yesterday agent=x", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseMark(tt.meta); !got.Equal(tt.want) {
			t.Errorf("%s: parseMark(%q) = %v; want %v", tt.name, tt.meta, got, tt.want)
		}
	}
}

func TestOrigins(t *testing.T) {
	o := newOrigins(300 * time.Millisecond)
	a, b := new(int), new(int)
	o.add(a, 3, 0)
	o.add(b, 5, 2*time.Second)
	if p, ok := o.of(a, 100*time.Millisecond); !ok || p != 3 {
		t.Errorf("of(a) = %d, %v; want 3, true", p, ok)
	}
	// At 2s every clone of a (due by 0.3s) is handed on: a is forgotten.
	if p, ok := o.of(b, 2*time.Second); !ok || p != 5 {
		t.Errorf("of(b) = %d, %v; want 5, true", p, ok)
	}
	if _, ok := o.of(a, 2*time.Second); ok {
		t.Errorf("of(a) after its clones: still known; want forgotten")
	}
}
