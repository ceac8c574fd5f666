package replay

import (
	"slices"
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// TestHeaderOrderPerDriver shows what each driver keeps of the recorded
// header order (docs/REPORT.md, "Requests as recorded"):
//
//   - lean (http://, the default): the recorded order exactly, names as
//     recorded, after the Host line it writes first.
//   - net/http (https://, HTTP/2, --driver http): every recorded header and
//     value, values of one name in recorded order, but the names in Go's
//     order: Host, User-Agent, then sorted. net/http keeps headers in a map
//     and sorts them when it writes (golang/go#24375, declined); keeping
//     the order would need a client of our own, not net/http.
func TestHeaderOrderPerDriver(t *testing.T) {
	recorded := []schema.Header{
		{Name: "X-Zeta", Value: "z"},
		{Name: "Accept", Value: "application/json"},
		{Name: "X-Multi", Value: "first"},
		{Name: "Cookie", Value: "lang=en"},
		{Name: "User-Agent", Value: "recorded-agent/1.0"},
		{Name: "X-Multi", Value: "second"},
		{Name: "Accept-Language", Value: "en"},
	}
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			rec, target := newRawRecording(t, 0)
			sched := &slice{reqs: []shaper.Request{{Session: "s", VirtualSession: "s",
				Exchange: &schema.Exchange{Method: "GET", Path: "/h", Headers: recorded}}}}
			results, _ := replayCase(t, Config{Target: target}, drv, sched)
			if len(results) != 1 || results[0].Error != "" {
				t.Fatalf("results %+v", results)
			}
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("target saw %d requests; want 1", len(got))
			}
			var names []string
			var sent []schema.Header
			for _, h := range got[0].headers {
				names = append(names, h.Name)
				if !strings.EqualFold(h.Name, "Host") {
					sent = append(sent, h)
				}
			}
			if len(names) == 0 || names[0] != "Host" {
				t.Errorf("%s: headers %v; want Host first", drv, names)
			}
			switch drv {
			case DriverLean:
				if !slices.Equal(sent, recorded) {
					t.Errorf("lean: headers sent\n %v\nwant the recorded order\n %v", sent, recorded)
				}
			case DriverHTTP:
				// Go's order: User-Agent first, the rest sorted by
				// name, one name's values in recorded order.
				want := []schema.Header{
					{Name: "User-Agent", Value: "recorded-agent/1.0"},
					{Name: "Accept", Value: "application/json"},
					{Name: "Accept-Language", Value: "en"},
					{Name: "Cookie", Value: "lang=en"},
					{Name: "X-Multi", Value: "first"},
					{Name: "X-Multi", Value: "second"},
					{Name: "X-Zeta", Value: "z"},
				}
				if !slices.Equal(sent, want) {
					t.Errorf("net/http: headers sent\n %v\nwant Go's order\n %v", sent, want)
				}
			}
		})
	}
}
