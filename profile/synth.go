package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// MaxSynthDuration bounds SynthConfig.Duration: a year of synthetic
// traffic is past any test plan, and the step count stays small.
const MaxSynthDuration = 366 * 24 * time.Hour

// Metadata keys Synth writes into the synthetic capture.
const (
	MetaSynthFrom     = "surge.synth.from"     // the capture the sessions were copied from (JSON list)
	MetaSynthSeed     = "surge.synth.seed"     // the seed
	MetaSynthScale    = "surge.synth.scale"    // the scale
	MetaSynthDuration = "surge.synth.duration" // the duration (Go duration)
)

// SynthConfig configures Synth and NewSynthStream. Capture and Duration are
// required; the other fields' zero values work.
type SynthConfig struct {
	// Capture names the recorded sessions to copy: Parquet files or hive
	// directories (eventlog.Files).
	Capture []string
	// Duration is how long the synthetic capture is: new sessions arrive
	// in [Start, Start+Duration); copies are whole, so the last ones end
	// after it. Required, at most MaxSynthDuration.
	Duration time.Duration
	// Scale multiplies the arrival curve (1.5 = half again as many new
	// sessions per minute); zero means 1; negative is an error.
	Scale float64
	// Seed keys every choice: the same seed, capture and target give the
	// same bytes.
	Seed uint64
	// Start is the synthetic capture's start; zero means the target's
	// Start (a whole minute).
	Start time.Time
	// CacheBytes is how much memory the capture's events may take to be
	// read once rather than once per pass over the arrival curve (a short
	// capture made into a long one); a larger capture is streamed. Zero
	// means DefaultSynthCache; negative means always stream.
	CacheBytes int64
}

// DefaultSynthCache is SynthConfig.CacheBytes when zero: 128 MiB.
const DefaultSynthCache = 128 << 20

func (c *SynthConfig) cacheBytes() int64 {
	if c.CacheBytes == 0 {
		return DefaultSynthCache
	}
	return c.CacheBytes
}

func (c *SynthConfig) scale() float64 {
	if c.Scale == 0 {
		return 1
	}
	return c.Scale
}

// Validate returns every problem of c, each naming the field.
func (c *SynthConfig) Validate() []error {
	var errs []error
	if len(c.Capture) == 0 {
		errs = append(errs, errors.New("profile: synth: no capture to copy sessions from"))
	}
	if c.Duration <= 0 || c.Duration > MaxSynthDuration {
		errs = append(errs, fmt.Errorf("profile: synth: duration %v: want above 0 and at most %v", c.Duration, MaxSynthDuration))
	}
	if c.Scale < 0 || math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) || c.Scale > 1e6 {
		errs = append(errs, fmt.Errorf("profile: synth: scale %v: want a number from 0 (1) to 1e6", c.Scale))
	}
	return errs
}

// NewSynthStream scans cfg.Capture once (session summaries, not events),
// weights its sessions toward t's mixes and returns the synthetic capture
// as a stream of events in time order. Close it when done.
func NewSynthStream(ctx context.Context, cfg SynthConfig, t *SynthTarget) (*SynthStream, error) {
	s, _, err := newSynthStream(ctx, cfg, t)
	return s, err
}

func newSynthStream(ctx context.Context, cfg SynthConfig, t *SynthTarget) (*SynthStream, *pool, error) {
	errs := append(cfg.Validate(), t.Validate()...)
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	p, err := scanPool(ctx, cfg.Capture, t, cfg.cacheBytes())
	if err != nil {
		return nil, nil, err
	}
	p.reweight(t)
	start := cfg.Start
	if start.IsZero() {
		start = t.Start
	}
	s := &SynthStream{ctx: ctx, pl: newPlanner(p, t, cfg.Seed, cfg.scale(), start.UTC(), cfg.Duration)}
	s.draw()
	return s, p, nil
}

// Synth writes a synthetic capture to out (Parquet, through a temporary
// file renamed into place; nothing is left at out on error): copies of the
// recorded sessions of cfg.Capture, resampled so that new sessions per
// minute follow t's arrival curve times cfg.Scale for cfg.Duration, with
// t's route mix, class mix and session lengths as near as the capture's
// sessions allow. Sessions are copied whole (their requests, order and
// gaps), shifted in time, with new session and user ids per copy;
// everything is deterministic by cfg.Seed. The report measures the
// written capture against t.
func Synth(ctx context.Context, cfg SynthConfig, t *SynthTarget, out string) (*SynthReport, error) {
	s, p, err := newSynthStream(ctx, cfg, t)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	meta := map[string]string{
		MetaSynthFrom: quoteList(cfg.Capture), MetaSynthSeed: strconv.FormatUint(cfg.Seed, 10),
		MetaSynthScale: strconv.FormatFloat(cfg.scale(), 'g', -1, 64), MetaSynthDuration: cfg.Duration.String(),
	}
	if infos, err := captureInfos(cfg.Capture); err == nil {
		// Copies are moved by whole seconds: the capture's time grid,
		// and so its resolution, holds in the copy.
		for _, fi := range infos {
			if r, ok := fi.Metadata[schema.MetaResolution]; ok {
				meta[schema.MetaResolution] = r
			}
		}
	}
	w, err := eventlog.Create[schema.Exchange](out, eventlog.WriterConfig{Source: "synth", Metadata: meta})
	if err != nil {
		return nil, err
	}
	m := newMeasure(p, t, s.pl)
	s.observe = m.observe
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Abort()
			return nil, err
		}
		if err := w.Add(e); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return m.report(s.closed), nil
}

func captureInfos(paths []string) ([]eventlog.FileInfo, error) {
	files, err := eventlog.Files(paths, eventlog.Range{})
	if err != nil {
		return nil, err
	}
	var infos []eventlog.FileInfo
	for _, f := range files {
		fi, err := eventlog.Stat(f)
		if err != nil {
			return nil, err
		}
		infos = append(infos, fi)
	}
	return infos, nil
}

func quoteList(xs []string) string {
	b, _ := json.Marshal(xs)
	return string(b)
}
