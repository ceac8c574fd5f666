package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// printStats prints the shape of the night: per minute of the access log the
// request count (split into API and playback), 5xx and the median API
// latency; then totals per status, endpoint, role, device and region.
func printStats(w io.Writer, ss []*session, xs []*exchange, vs []*view) error {
	type minute struct {
		api, play, fail int
		lat             []time.Duration
	}
	mins := make([]minute, int(windowEnd.Sub(windowStart)/time.Minute))
	status, endpoint := counter{}, counter{}
	for _, x := range xs {
		m := &mins[x.end().Sub(windowStart)/time.Minute]
		if x.ep.host == apiHost {
			m.api++
			m.lat = append(m.lat, x.latency())
		} else {
			m.play++
		}
		if x.status >= 500 {
			m.fail++
		}
		status.add(fmt.Sprint(x.status))
		endpoint.add(x.ep.name)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "minute\ttotal\tapi\tplayback\t5xx\tapi p50 ms\t\t")
	for i, m := range mins {
		slices.Sort(m.lat)
		p50 := time.Duration(0)
		if len(m.lat) > 0 {
			p50 = m.lat[len(m.lat)/2]
		}
		n := m.api + m.play
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t %s\t\n", windowStart.Add(time.Duration(i)*time.Minute).Format("15:04"),
			n, m.api, m.play, m.fail, p50.Milliseconds(), strings.Repeat("#", n/60))
	}
	tw.Flush()
	roles, devices, regions := counter{}, counter{}, counter{}
	for _, s := range ss {
		roles.add([]string{"viewer", "browser", "companion"}[s.role])
		devices.add(s.client.device)
		regions.add(s.region.name)
	}
	types := counter{}
	for _, v := range vs {
		types.add(v.typ)
	}
	fmt.Fprintf(w, "\nlines %d, sessions %d\n", len(xs), len(ss))
	for _, c := range []struct {
		name string
		c    counter
	}{{"status", status}, {"endpoint", endpoint}, {"role", roles}, {"device", devices}, {"region", regions}, {"views", types}} {
		fmt.Fprintf(w, "%-9s %s\n", c.name, c.c)
	}
	return nil
}

// counter counts strings; it prints them sorted by key.
type counter map[string]int

func (c counter) add(k string) { c[k]++ }

func (c counter) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, c[k])
	}
	return b.String()
}
