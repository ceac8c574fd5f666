package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// collectSets reads the run's window of the capture topic, every partition
// merged in time order (then by partition: kafkalog.Reader), and collects
// the session sets of the run's shape block (shaper.CollectSets) that its
// exits send users to. Every agent reads the same records in the same
// order, so every agent has the same sets, and an exit's follow-ups are
// the sessions one machine would start. Nil when the run has no sets.
func collectSets(ctx context.Context, spec *RunSpec) (map[string]shaper.SessionSet, error) {
	if spec.Shape == nil || len(spec.Shape.Sessions) == 0 {
		return nil, nil
	}
	addr, err := kafkalog.ParseAddr(spec.Capture)
	if err != nil {
		return nil, err
	}
	r, err := kafkalog.OpenReader(ctx, addr, eventlog.Range{From: spec.WindowFrom, To: spec.WindowTo})
	if err != nil {
		return nil, fmt.Errorf("session sets: %w", err)
	}
	defer r.Close()
	src := func() (*schema.Exchange, error) { return r.Next() } // a fresh value each call
	sets, err := shaper.CollectSets(spec.Shape.Sessions, src)
	if err != nil {
		return nil, fmt.Errorf("session sets: %w", err)
	}
	// A set no recorded session starts as would make its exits start
	// nothing: say so rather than run without.
	var errs []error
	for i, e := range spec.Shape.Exits {
		if e.To != "" && len(sets[e.To]) == 0 {
			errs = append(errs, fmt.Errorf("shape.sessions.%s: no recorded session of the window starts with a request matching %s, and exits[%d] sends users to it",
				e.To, strings.Join(spec.Shape.Sessions[e.To].Match, " and "), i))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sets, nil
}
