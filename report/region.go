package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// RegionReport is one region's share of a run (RunSummary.Regions): the
// region its virtual sessions resolved the target in (schema.Result.Region,
// "-" for results without one), with its counts, its errors by class (a
// region's DNS failures are the class dns) and its latency.
type RegionReport struct {
	Region    string           `json:"region"`
	Scheduled int64            `json:"scheduled"`
	Sent      int64            `json:"sent"`
	OK        int64            `json:"ok"`
	Errors    int64            `json:"errors"`
	ErrorsBy  map[string]int64 `json:"errors_by"`
	Dropped   int64            `json:"dropped"`
	Latency   Percentiles      `json:"latency_ms"`
	Service   Percentiles      `json:"service_ms"`
}

// NoRegion is the region of results without one.
const NoRegion = "-"

// runRegion is one region of an Aggregator (Aggregator.regions).
type runRegion struct {
	tally
	errors   map[string]int64
	lat, svc sparse
}

// regionOf returns the aggregate of region name: at most maxRegions, the
// rest "other". a.mu is held.
func (a *Aggregator) regionOf(name string) *runRegion {
	if name == "" {
		name = NoRegion
	}
	if a.regions == nil {
		a.regions = map[string]*runRegion{}
	}
	if rg, ok := a.regions[name]; ok {
		return rg
	}
	if len(a.regions) >= maxRegions {
		name = OtherRoute
		if rg, ok := a.regions[name]; ok {
			return rg
		}
	}
	rg := &runRegion{errors: map[string]int64{}}
	a.regions[name] = rg
	return rg
}

// addRegion folds r, of outcome class (classify), into its region.
func (a *Aggregator) addRegion(r *schema.Result, dropped bool, class string) {
	rg := a.regionOf(r.Region)
	rg.add(dropped, class)
	if dropped {
		return
	}
	if class != "" {
		rg.errors[key(rg.errors, class, OtherClass)]++
	}
	rg.lat.record(r.LatencyNS, runDigits)
	rg.svc.record(r.ServiceNS, runDigits)
}

// regionReports returns the regions by scheduled requests, descending; nil
// when no result had a region. a.mu is held.
func (a *Aggregator) regionReports() []RegionReport {
	if _, none := a.regions[NoRegion]; len(a.regions) == 0 || (len(a.regions) == 1 && none) {
		return nil
	}
	out := make([]RegionReport, 0, len(a.regions))
	for name, rg := range a.regions {
		out = append(out, RegionReport{
			Region: name, Scheduled: rg.scheduled, Sent: rg.sent, OK: rg.ok, Errors: rg.errs,
			ErrorsBy: maps.Clone(rg.errors), Dropped: rg.dropped,
			Latency: percentiles(rg.lat.quantiler(), rg.lat.max), Service: percentiles(rg.svc.quantiler(), rg.svc.max),
		})
	}
	slices.SortFunc(out, func(x, y RegionReport) int {
		return cmp.Or(cmp.Compare(y.Scheduled, x.Scheduled), cmp.Compare(x.Region, y.Region))
	})
	return out
}

// regionClasses returns each region's error classes as text ("dns 10,
// http_5xx 2"), from s.Regions.
func regionClasses(s *RunSummary) map[string]string {
	out := map[string]string{}
	for _, r := range s.Regions {
		var classes []string
		for _, c := range slices.Sorted(maps.Keys(r.ErrorsBy)) {
			classes = append(classes, fmt.Sprintf("%s %s", c, count(r.ErrorsBy[c])))
		}
		out[r.Region] = strings.Join(classes, ", ")
	}
	return out
}

// writeRegions writes the split by region, when the run has regions:
// counts, error rate and its classes, latency from intended.
func (s *RunSummary) writeRegions(b *strings.Builder) {
	if len(s.Regions) == 0 {
		return
	}
	fmt.Fprintf(b, "\n  regions (latency from intended)\n")
	fmt.Fprintf(b, "  %-12s %11s %11s %8s %9s %9s  %s\n", "region", "scheduled", "sent", "err", "p50 ms", "p99 ms", "errors")
	classes := regionClasses(s)
	for _, r := range s.Regions {
		line := fmt.Sprintf("  %-12s %11s %11s %8s %9s %9s  %s", r.Region, count(r.Scheduled), count(r.Sent),
			percent(r.Errors, r.Sent), millis(r.Latency.P50), millis(r.Latency.P99), classes[r.Region])
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}
