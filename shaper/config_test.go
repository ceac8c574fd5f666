package shaper_test

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/internal/golden"
	"github.com/surge-replay/surge/shaper"
)

func TestValidate(t *testing.T) {
	from := base
	tests := []struct {
		name   string
		cfg    shaper.Config
		fields []string // of the *ConfigErrors, in order
	}{
		// The zero value works.
		{"zero", shaper.Config{}, nil},
		// Everything set and good.
		{"good", shaper.Config{From: from, To: from.Add(time.Hour), Speed: 2.5, Loops: 3, Ratio: shaper.Constant(0.6), Spread: -1, IdleGap: time.Minute}, nil},
		// A RatioFunc cannot be checked; it is fine here.
		{"func", shaper.Config{Ratio: constFunc(-1)}, nil},
		{"negative speed", shaper.Config{Speed: -1}, []string{"Speed"}},
		{"infinite speed", shaper.Config{Speed: math.Inf(1)}, []string{"Speed"}},
		{"negative loops", shaper.Config{Loops: -2}, []string{"Loops"}},
		// To must be after From.
		{"empty window", shaper.Config{From: from, To: from}, []string{"To"}},
		{"negative ratio", shaper.Config{Ratio: shaper.Constant(-1)}, []string{"Ratio"}},
		{"negative idle gap", shaper.Config{IdleGap: -time.Second}, []string{"IdleGap"}},
		// Every problem at once, not just the first.
		{"all", shaper.Config{Speed: -1, Loops: -1, From: from, To: from.Add(-time.Hour), Ratio: shaper.Constant(-3), IdleGap: -1},
			[]string{"Speed", "Loops", "To", "Ratio", "IdleGap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.cfg.Validate()
			var fields []string
			for _, err := range errs {
				var ce *shaper.ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("Validate() gave %T %v; want *ConfigError", err, err)
				}
				fields = append(fields, ce.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("Validate() = %v; want errors for %v", errs, tt.fields)
			}
			// New refuses what Validate reports, with every error.
			_, err := shaper.New(tt.cfg, open(nil))
			for _, e := range errs {
				if err == nil || !strings.Contains(err.Error(), e.Error()) {
					t.Errorf("New() = %v; want it to include %v", err, e)
				}
			}
			if len(errs) == 0 && err != nil {
				t.Errorf("New() = %v; want no error", err)
			}
		})
	}
}

func TestNewOpenError(t *testing.T) {
	boom := errors.New("boom")
	_, err := shaper.New(shaper.Config{}, func() (shaper.Source, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Errorf("New(failing opener) = %v; want it to wrap %v", err, boom)
	}
	if _, err := shaper.New(shaper.Config{}, nil); err == nil {
		t.Error("New(nil opener) = nil error; want one")
	}
}

func TestPlanString(t *testing.T) {
	from := time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cfg  shaper.Config
	}{
		// The 3x replay of a two-hour event, ten times faster, twice.
		{"event", shaper.Config{From: from, To: from.Add(2 * time.Hour), Speed: 10, Loops: 2, Ratio: shaper.Constant(2.5), Seed: 42}},
		// The zero Config: open window, defaults.
		{"zero", shaper.Config{}},
		// A custom ratio, no jitter, a start only.
		{"custom", shaper.Config{From: from, Ratio: constFunc(1), Spread: -1, IdleGap: time.Hour, Seed: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := shaper.New(tt.cfg, open(nil))
			if err != nil {
				t.Fatal(err)
			}
			got := s.Plan().String()
			path := filepath.Join("testdata", "plan-"+tt.name+".golden")
			golden.Check(t, path, []byte(got))
		})
	}
}
