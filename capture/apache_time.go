package capture

import (
	"fmt"
	"strings"
	"time"
)

// apacheClock reads the time of an Apache log line from the values of its
// %t and %{format}t directives (mod_log_config, "Custom Log Formats").
type apacheClock struct {
	parts  []timePart
	end    bool   // the parts are end: times (the log time), not the request start
	layout string // Go layout of the strftime parts, joined by spaces
}

// timePart is one time directive.
type timePart struct {
	kind   partKind
	name   string // the directive as written, for errors
	layout string // Go layout of a strftime part
	spaces int    // spaces in the value
	end    bool
}

type partKind uint8

const (
	partCLF      partKind = iota // %t: [21/Nov/2026:20:00:01 +0000]
	partStrftime                 // %{%d/%b/%Y %T}t
	partSec                      // %{sec}t
	partMsec                     // %{msec}t
	partUsec                     // %{usec}t
	partMsecFrac                 // %{msec_frac}t
	partUsecFrac                 // %{usec_frac}t
)

// add compiles the argument of one time directive, or returns why not.
func (c *apacheClock) add(arg string) string {
	p := timePart{kind: partCLF, spaces: 1}
	if arg != "" {
		rest, end := arg, false
		if r, ok := strings.CutPrefix(arg, "end:"); ok {
			rest, end = r, true
		} else if r, ok := strings.CutPrefix(arg, "begin:"); ok {
			rest = r
		}
		p = timePart{end: end}
		switch rest {
		case "sec":
			p.kind = partSec
		case "msec":
			p.kind = partMsec
		case "usec":
			p.kind = partUsec
		case "msec_frac":
			p.kind = partMsecFrac
		case "usec_frac":
			p.kind = partUsecFrac
		default:
			layout, reason := strftimeLayout(rest)
			if reason != "" {
				return reason
			}
			p.kind, p.layout, p.spaces = partStrftime, layout, strings.Count(layout, " ")
		}
	}
	c.parts = append(c.parts, p)
	return ""
}

// check validates the parts as one time and joins the strftime layouts.
func (c *apacheClock) check() string {
	var bases, fracs, strf int
	var layouts []string
	wholeSeconds := true
	for i, p := range c.parts {
		if i == 0 {
			c.end = p.end
		} else if p.end != c.end {
			return "time directives mix begin: and end: times"
		}
		switch p.kind {
		case partCLF, partSec:
			bases++
		case partMsec, partUsec:
			bases++
			wholeSeconds = false
		case partMsecFrac, partUsecFrac:
			fracs++
		case partStrftime:
			strf++
			layouts = append(layouts, p.layout)
		}
	}
	if strf > 0 {
		bases++
	}
	switch {
	case bases != 1:
		return "time directives give more than one time; use %t, one of sec, msec and usec, or strftime parts"
	case fracs > 1 || fracs == 1 && !wholeSeconds:
		return "time directives give more than one fraction of a second"
	}
	c.layout = strings.Join(layouts, " ")
	if strf > 0 {
		for _, need := range [...]struct{ tokens, what string }{{"2006 06", "a year"}, {"01 Jan", "a month"}, {"02", "a day"}, {"15 03", "an hour"}} {
			if !containsAny(c.layout, strings.Fields(need.tokens)) {
				return fmt.Sprintf("the strftime time has no %s", need.what)
			}
		}
	}
	return ""
}

// times sets Exchange.Time and LogTime from the line's time values;
// response must have set the latency.
func (c *apacheClock) times(d *accessDecoder, h *Hit) *RecordError {
	vals := d.vals.times
	if len(vals) != len(c.parts) {
		return &RecordError{Field: c.parts[min(len(vals), len(c.parts)-1)].name, Reason: "no time"}
	}
	var (
		t    time.Time
		frac int64
		strf []string
	)
	for i, p := range c.parts {
		v, ok := vals[i], true
		switch p.kind {
		case partCLF:
			t, ok = d.clf(v)
		case partSec, partMsec, partUsec:
			var n int
			n, ok = digits(v)
			unit := [...]int64{partSec: 1e9, partMsec: 1e6, partUsec: 1e3}[p.kind]
			ok = ok && int64(n) <= 1<<62/unit
			t = time.Unix(0, int64(n)*unit).UTC()
		case partMsecFrac, partUsecFrac:
			frac, ok = fraction(v)
			ok = ok && (len(v) == 3) == (p.kind == partMsecFrac) && (len(v) == 3 || len(v) == 6)
		case partStrftime:
			strf = append(strf, v)
		}
		if !ok {
			return &RecordError{Field: p.name, Reason: "not a time: " + quoteValue(v)}
		}
	}
	if len(strf) > 0 {
		s := strings.Join(strf, " ")
		var err error
		if t, err = time.Parse(c.layout, s); err != nil {
			return &RecordError{Field: c.parts[0].name, Reason: "not a time as the format says: " + quoteValue(s)}
		}
		t = t.UTC()
	}
	t = t.Add(time.Duration(frac))
	h.LogTime, h.Exchange.Time = t, t
	if ns := h.Exchange.LatencyNS; ns != nil {
		if c.end {
			h.Exchange.Time = t.Add(-time.Duration(*ns))
		} else {
			h.LogTime = t.Add(time.Duration(*ns))
		}
	}
	return nil
}

// clf parses a %t value, "[21/Nov/2026:20:00:01 +0000]", through the
// decoder's cache of the last one.
func (d *accessDecoder) clf(v string) (time.Time, bool) {
	if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' {
		return time.Time{}, false
	}
	v = v[1 : len(v)-1]
	if v == d.lastTime {
		return d.lastValue, true
	}
	t, ok := timeLocal(v)
	if ok {
		d.lastTime, d.lastValue = v, t
	}
	return t, ok
}

// strftimeLayouts maps the strftime(3) conversions Apache logs to Go
// layout elements.
var strftimeLayouts = map[byte]string{
	'a': "Mon", 'A': "Monday", 'b': "Jan", 'h': "Jan", 'B': "January", 'd': "02",
	'H': "15", 'I': "03", 'j': "002", 'm': "01", 'M': "04", 'p': "PM", 'S': "05",
	'y': "06", 'Y': "2006", 'z': "-0700", 'Z': "MST", 'T': "15:04:05",
	'F': "2006-01-02", 'D': "01/02/06", 'R': "15:04", 'r': "03:04:05 PM", '%': "%", 't': "\t",
}

// strftimeLayout converts a strftime(3) format to a Go time layout, or
// returns why it cannot.
func strftimeLayout(f string) (string, string) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			if '0' <= c && c <= '9' {
				return "", fmt.Sprintf("a digit in the strftime format %q would read as part of the time", f)
			}
			b.WriteByte(c)
			continue
		}
		if i+1 == len(f) {
			return "", fmt.Sprintf("strftime format %q ends with %%", f)
		}
		i++
		l, ok := strftimeLayouts[f[i]]
		if !ok {
			return "", fmt.Sprintf("strftime %%%c is not supported (use %%a %%A %%b %%B %%d %%D %%F %%h %%H %%I %%j %%m %%M %%p %%r %%R %%S %%T %%y %%Y %%z %%Z)", f[i])
		}
		b.WriteString(l)
	}
	return b.String(), ""
}
