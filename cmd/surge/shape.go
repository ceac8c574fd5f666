package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/surge-replay/surge/shaper"
)

// shapeSettings reads the shaping of a replay: the `shape:` block of the
// config file (decoded by the shaper, which refuses unknown keys) and the
// --ratio-for classes, which come first (first match wins). The default
// class's ratio stays --ratio unless shape.ratio is given.
func shapeSettings(cfg *config) (s shaper.Settings, nFlags int, err error) {
	var errs []error
	if raw := cfg.s.Shape; raw != nil {
		data, err := json.Marshal(raw)
		if err != nil {
			return s, 0, fmt.Errorf("config %s: shape: %v", cfg.file, err)
		}
		if s, err = shaper.DecodeSettings(data); err != nil {
			errs = append(errs, fmt.Errorf("config %s: %v", cfg.file, err))
		}
	}
	if err := s.ValidateStorms(); err != nil {
		errs = append(errs, fmt.Errorf("config %s: shape: %w", cfg.file, err))
	}
	var flags []shaper.ClassSpec
	for _, rf := range cfg.s.Replay.RatioFor {
		c, err := shaper.ParseRatioFor(rf)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s", cfg.label("replay.ratio_for"), strings.TrimPrefix(err.Error(), "--ratio-for ")))
			continue
		}
		flags = append(flags, c)
	}
	s.Ratios = append(flags, s.Ratios...)
	nFlags = len(flags)
	if err := loadContentFile(&s); err != nil {
		errs = append(errs, err)
	}
	if s.Shaped() {
		// Every error before any work: none depends on the window start,
		// which planReplay resolves the curve times against.
		if _, err := s.Classes(time.Unix(0, 0).UTC(), 1); err != nil {
			errs = append(errs, fmt.Errorf("shape: %w", err))
		}
	}
	return s, nFlags, errors.Join(errs...)
}

// ratioOf returns the number of a constant ratio, or 1.
func ratioOf(r shaper.Ratio) float64 {
	if c, ok := r.(shaper.Constant); ok {
		return float64(c)
	}
	return 1
}

// loadContentFile reads shape.content.file (CSV of id,weight) into the
// content list's ids, after any given in the config.
func loadContentFile(s *shaper.Settings) error {
	if s.Content == nil || s.Content.File == "" {
		return nil
	}
	f, err := os.Open(s.Content.File)
	if err != nil {
		return fmt.Errorf("shape: content: %w", err)
	}
	defer f.Close()
	ids, err := shaper.ReadChoices(f)
	if err != nil {
		return fmt.Errorf("shape: content: %s: %w", s.Content.File, err)
	}
	c := *s.Content
	c.IDs, c.File = append(append([]shaper.Choice(nil), c.IDs...), ids...), ""
	s.Content = &c
	return nil
}

// plan0Ratio returns the run's starting ratio: the default class's.
func plan0Ratio(o *replayOptions) float64 {
	if o.settings.Ratio != nil {
		return *o.settings.Ratio
	}
	return ratioOf(o.shape.Ratio)
}

// flagClasses returns the --ratio-for classes (the first of the settings'
// classes, see shapeSettings).
func (o *replayOptions) flagClasses() []shaper.ClassSpec {
	return o.settings.Ratios[:o.nFlagClasses]
}
