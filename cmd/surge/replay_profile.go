package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/profile"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// replayProfile is surge replay --profile: the capture's sessions re-timed
// to a profile's arrival curve (profile.SynthStream) before the shaper.
type replayProfile struct {
	dir    string
	target *profile.SynthTarget
}

// loadReplayProfile reads --profile; label names the key in errors.
func loadReplayProfile(dir, label string) (*replayProfile, error) {
	p, err := profile.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", label, dir, err)
	}
	t, err := profile.TargetOf(p)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", label, dir, err)
	}
	return &replayProfile{dir: dir, target: t}, nil
}

// config returns the synth settings of a replay: new sessions over the
// profile's span, at its own scale (the ratio amplifies afterwards).
func (rp *replayProfile) config(captures []string, seed uint64) profile.SynthConfig {
	return profile.SynthConfig{Capture: captures, Duration: time.Duration(len(rp.target.Arrivals)) * time.Minute, Seed: seed}
}

// resolve returns the time range of the re-timed capture and how to open
// it for a window: each open draws the same stream again (same seed).
func (rp *replayProfile) resolve(ctx context.Context, captures []string, seed uint64) (first, last time.Time, open func(eventlog.Range) shaper.Opener, err error) {
	if _, ok, _ := kafkaCapture(captures); ok {
		return first, last, nil, errors.New("replay: --profile re-times sessions from capture files; a kafka:// capture cannot be read once per pass")
	}
	cfg := rp.config(captures, seed)
	s, err := profile.NewSynthStream(ctx, cfg, rp.target)
	if err != nil {
		return first, last, nil, err
	}
	first, last = s.Span()
	s.Close()
	if first.IsZero() {
		return first, last, nil, fmt.Errorf("replay: --profile %s: its arrival curve starts no session", rp.dir)
	}
	open = func(r eventlog.Range) shaper.Opener {
		return func() (shaper.Source, error) {
			s, err := profile.NewSynthStream(ctx, cfg, rp.target)
			if err != nil {
				return nil, err
			}
			return func() (*schema.Exchange, error) {
				for {
					e, err := s.Next()
					if err != nil {
						s.Close()
						return nil, err
					}
					if !r.From.IsZero() && e.Time.Before(r.From) {
						continue
					}
					if !r.To.IsZero() && !e.Time.Before(r.To) {
						s.Close()
						return nil, io.EOF
					}
					return e, nil
				}
			}, nil
		}
	}
	return first, last, open, nil
}
