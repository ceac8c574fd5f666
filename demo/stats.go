package demo

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Stats are a Server's counters: per route class, and for the requests
// turned away before reaching a class.
type Stats struct {
	// Classes has one entry per route class, in the order of Classes().
	Classes []ClassStats
	// NotFound, MethodNotAllowed, Unauthorized and TooLarge count 404, 405,
	// 401 and 413 responses. Unauthorized includes logins without a body,
	// which also count in their class.
	NotFound         int64
	MethodNotAllowed int64
	Unauthorized     int64
	TooLarge         int64
}

// ClassStats are the counters of one route class.
type ClassStats struct {
	Class    string // the class name, such as "search"
	Capacity int    // requests in service at once
	// Requests counts the requests that asked the class for a slot;
	// Served those answered after their service time; Rejected those that
	// got 503 after waiting QueueTimeout. The rest were abandoned by the
	// client or cut short by Close.
	Requests     int64
	Served       int64
	Rejected     int64
	PeakInFlight int           // most requests in service at once
	MeanWait     time.Duration // mean time queued, of requests that got a slot
	MeanService  time.Duration // mean time in service, of served requests
	// P50Service and P99Service are percentiles of the time in service of
	// served requests, as the server measured it (from taking a slot to
	// the end of the service timer, µs precision): what a client's latency
	// is compared with.
	P50Service time.Duration
	P99Service time.Duration
}

// Class returns the counters of the named class.
func (s Stats) Class(name string) (ClassStats, bool) {
	for _, c := range s.Classes {
		if c.Class == name {
			return c, true
		}
	}
	return ClassStats{}, false
}

// String renders the counters as a table, one class a line.
func (s Stats) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tcapacity\trequests\tserved\t503\tpeak\tmean wait\tmean service\tp50 service\tp99 service\t")
	for _, c := range s.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%v\t%v\t%v\t%v\t\n", c.Class, c.Capacity, c.Requests, c.Served,
			c.Rejected, c.PeakInFlight, c.MeanWait.Round(100*time.Microsecond), c.MeanService.Round(100*time.Microsecond),
			c.P50Service.Round(100*time.Microsecond), c.P99Service.Round(100*time.Microsecond))
	}
	tw.Flush()
	fmt.Fprintf(&b, "404 %d, 405 %d, 401 %d, 413 %d\n", s.NotFound, s.MethodNotAllowed, s.Unauthorized, s.TooLarge)
	return b.String()
}
