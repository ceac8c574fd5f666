package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/surge-replay/surge/shaper"
)

// shapeSettings reads the shaping of a replay: the `shape:` block of the
// config file (decoded by the shaper, which refuses unknown keys) and the
// --ratio-for classes, which come first (first match wins). The default
// class's ratio stays --ratio unless shape.ratio is given.
func shapeSettings(cfg *config) (s shaper.Settings, nFlags int, err error) {
	var errs []error
	s, doc, err := shapeBlock(cfg)
	if err != nil {
		return s, 0, err
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
	doc.flags = nFlags
	if err := loadContentFile(&s); err != nil {
		errs = append(errs, err)
	}
	// Every error before any work, each with its key and line: none
	// depends on the window start, which planReplay resolves the curve
	// times against.
	errs = append(errs, doc.wrap(s.Validate())...)
	return s, nFlags, errors.Join(errs...)
}

// shapeBlock decodes the config's shape block as written (shapeDoc: every
// error with its line), or the keys as given when not from a file.
func shapeBlock(cfg *config) (shaper.Settings, *shapeDoc, error) {
	doc := &shapeDoc{what: "config", block: "shape"}
	if cfg.file != "" {
		data, err := os.ReadFile(cfg.file)
		if err != nil {
			return shaper.Settings{}, doc, fmt.Errorf("config %s: %w", cfg.file, err)
		}
		if doc, err = readShapeDoc(cfg.file, data); err != nil {
			return shaper.Settings{}, doc, err
		}
	} else if raw := cfg.s.Shape; raw != nil {
		// Not from a file (no lines to name): check the keys as given.
		var v any = raw
		var n yaml.Node
		if err := n.Encode(v); err == nil {
			doc.node = &n
		}
	}
	s, errs := doc.settings()
	// Keys or types wrong: what the rest would say is noise.
	return s, doc, errors.Join(errs...)
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

// emptySets refuses a session set that an exit sends users to and that no
// recorded session of the window starts as: the exit would start nothing.
func emptySets(s shaper.Settings, sets map[string]shaper.SessionSet) error {
	var errs []error
	for i, e := range s.Exits {
		if e.To != "" && len(sets[e.To]) == 0 {
			errs = append(errs, fmt.Errorf("shape.sessions.%s: no recorded session of the window starts with a request matching %s, and exits[%d] sends users to it", e.To, strings.Join(s.Sessions[e.To].Match, " and "), i))
		}
	}
	return errors.Join(errs...)
}
