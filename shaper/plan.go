package shaper

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Plan is what a Shaper's schedule will be, printable before anything is
// sent. A bound of the window left open in the Config is zero until the
// Shaper has read it from the capture (the first event for From, the end of
// the first pass for To), and so is Duration.
type Plan struct {
	From, To time.Time     // the window; To is the last event when the window's end is open
	Speed    float64       // time compression: above 1 is faster
	Loops    int           // passes over the window, back to back
	Ratio    string        // the Ratio's String, or "custom" for one without
	Seed     uint64        // the run seed
	Spread   time.Duration // clone start jitter range; 0 means none
	IdleGap  time.Duration // how long a recorded session is remembered
	Duration time.Duration // window length / Speed × Loops; 0 while unknown
	// Resolution is the capture's time resolution whose shared instants are
	// spread (Config.Resolution); 0 means none.
	Resolution time.Duration
	Exits      []string // the scheduled exits (ExitSpec.String)
	Storms     []string // the reconnect storms (StormSpec.String)
}

// Window returns the window's length, or 0 while a bound is unknown.
func (p Plan) Window() time.Duration {
	if p.From.IsZero() || p.To.IsZero() {
		return 0
	}
	return p.To.Sub(p.From)
}

// String prints the plan, one aligned "name  value" line per field.
func (p Plan) String() string {
	var b strings.Builder
	line := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "%-9s %s\n", name, fmt.Sprintf(format, args...))
	}
	from, to := "first event", "last event"
	if !p.From.IsZero() {
		from = stamp(p.From)
	}
	if !p.To.IsZero() {
		to = stamp(p.To)
	}
	if !p.From.IsZero() && !p.To.IsZero() {
		line("window", "%s to %s (%v)", from, to, p.Window())
	} else {
		line("window", "%s to %s of the capture", from, to)
	}
	line("speed", "%sx", strconv.FormatFloat(p.Speed, 'g', -1, 64))
	if p.Loops > 1 {
		line("loops", "%d, back to back", p.Loops)
	} else {
		line("loops", "%d", p.Loops)
	}
	line("ratio", "%s", p.Ratio)
	for _, e := range p.Exits {
		line("exit", "%s", e)
	}
	for _, e := range p.Storms {
		line("storm", "%s", e)
	}
	line("seed", "%d", p.Seed)
	if p.Spread > 0 {
		line("spread", "%v (clone start jitter)", p.Spread)
	} else {
		line("spread", "none (clones start with their session)")
	}
	line("idle gap", "%v", p.IdleGap)
	if p.Resolution > 0 {
		line("instants", "spread within %v (the capture's time resolution)", p.Resolution)
	}
	if p.From.IsZero() || p.To.IsZero() {
		line("duration", "unknown until the capture is read (open window)")
	} else {
		line("duration", "%v", p.Duration)
	}
	return b.String()
}
