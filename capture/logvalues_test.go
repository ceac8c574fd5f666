package capture

import (
	"fmt"
	"testing"
	"time"
)

// logValueTests are the value parsers' rows: a parser, its input, and what
// it gives rendered by showValue.
var logValueTests = []struct {
	fn, in string
	want   string
}{
	// A time in a zone west of UTC.
	{"timeLocal", "01/Mar/2024:00:30:00 -0100", "2024-03-01T01:30:00Z"},
	// Leap day.
	{"timeLocal", "29/Feb/2024:12:00:00 +0000", "2024-02-29T12:00:00Z"},
	// Not a leap year.
	{"timeLocal", "29/Feb/2025:12:00:00 +0000", "false"},
	// One-digit day.
	{"timeLocal", "1/Mar/2024:00:30:00 +0000", "false"},
	// Lower-case month.
	{"timeLocal", "01/mar/2024:00:30:00 +0000", "false"},
	// A zone offset with minutes.
	{"iso8601Time", "2026-11-21T20:00:01+05:30", "2026-11-21T14:30:01Z"},
	// Nanoseconds.
	{"iso8601Time", "2026-11-21T20:00:01.123456789Z", "2026-11-21T20:00:01.123456789Z"},
	// No zone.
	{"iso8601Time", "2026-11-21T20:00:01", "false"},
	// A dot without digits.
	{"iso8601Time", "2026-11-21T20:00:01.Z", "false"},
	// $msec.
	{"msecTime", "1795291201.007", "2026-11-21T20:00:01.007Z"},
	// $msec without a fraction.
	{"msecTime", "1795291201", "2026-11-21T20:00:01Z"},
	// Negative.
	{"msecTime", "-1.000", "false"},
	// Milliseconds.
	{"secondsValue", "0.123", "123ms"},
	// Whole seconds.
	{"secondsValue", "12", "12s"},
	// Microseconds and beyond are kept to the nanosecond.
	{"secondsValue", "0.0000015559", "1.555µs"},
	// Empty.
	{"secondsValue", "", "false"},
	// A sum over retries and redirects.
	{"secondsSum", "0.010, 0.020 : 0.005", "35ms of 3"},
	// Unanswered upstreams.
	{"secondsSum", "-, 0.002", "2ms of 1"},
	// Junk.
	{"secondsSum", "0.1;0.2", "false"},
	// A status.
	{"statusValue", "499", "499"},
	// Too short.
	{"statusValue", "99", "false"},
	// Signed.
	{"statusValue", "+99", "false"},
	// A byte count.
	{"countValue", "1048576", "1048576"},
	// Too long to be one.
	{"countValue", "1234567890123456789", "false"},
	// IPv4 with a port.
	{"forwardedClient", " 192.0.2.1:5000 , 10.0.0.1", "192.0.2.1"},
	// Bare IPv6.
	{"forwardedClient", "2001:db8::1, 10.0.0.1", "2001:db8::1"},
	// Nothing.
	{"forwardedClient", "", ""},
	// nginx escapes.
	{"unescapeLogged", `a\x22b\x5Cc`, `a"b\c`},
	// A trailing backslash and a short escape stay.
	{"unescapeLogged", `a\x2 \`, `a\x2 \`},
	// Non-hex digits stay.
	{"unescapeLogged", `\xZZ`, `\xZZ`},
}

// showValue runs the parser fn on in and renders the result.
func showValue(fn, in string) string {
	var (
		v  any
		ok = true
	)
	switch fn {
	case "timeLocal":
		var t time.Time
		t, ok = timeLocal(in)
		v = t.Format(time.RFC3339Nano)
	case "iso8601Time":
		var t time.Time
		t, ok = iso8601Time(in)
		v = t.Format(time.RFC3339Nano)
	case "msecTime":
		var t time.Time
		t, ok = msecTime(in)
		v = t.Format(time.RFC3339Nano)
	case "secondsValue":
		var ns int64
		ns, ok = secondsValue(in)
		v = time.Duration(ns)
	case "secondsSum":
		ns, n, good := secondsSum(in)
		ok, v = good, fmt.Sprintf("%s of %d", time.Duration(ns), n)
	case "statusValue":
		v, ok = statusValue(in)
	case "countValue":
		v, ok = countValue(in)
	case "forwardedClient":
		v = forwardedClient(in)
	case "unescapeLogged":
		v = unescapeLogged(in)
	}
	if !ok {
		return "false"
	}
	return fmt.Sprint(v)
}

func TestLogValues(t *testing.T) {
	for _, tt := range logValueTests {
		if got := showValue(tt.fn, tt.in); got != tt.want {
			t.Errorf("%s(%q) = %s; want %s", tt.fn, tt.in, got, tt.want)
		}
	}
}
