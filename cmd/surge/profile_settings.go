package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/surge-replay/surge/profile"
)

// profileSettings are the keys of surge profile's subcommands.
type profileSettings struct {
	Build   profileBuildSettings   `mapstructure:"build"`
	Plot    profilePlotSettings    `mapstructure:"plot"`
	Compare profileCompareSettings `mapstructure:"compare"`
	Synth   profileSynthSettings   `mapstructure:"synth"` // profile_synth.go
}

type profileBuildSettings struct {
	Output       string        `mapstructure:"output"`
	SessionIdle  time.Duration `mapstructure:"session_idle"`
	MaxRoutes    int           `mapstructure:"max_routes"`
	Class        stringArray   `mapstructure:"class"`
	MomentChange float64       `mapstructure:"moment_change"`
	MomentWindow int           `mapstructure:"moment_window"`
}

type profilePlotSettings struct {
	Output string `mapstructure:"output"`
}

type profileCompareSettings struct {
	JSON bool `mapstructure:"json"`
}

// validate returns every bad value of the profile keys.
func (s *profileSettings) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &keyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	b := &s.Build
	if b.SessionIdle < 0 {
		bad("profile.build.session_idle", "%v: want a duration of 0 or more (0: 30m)", b.SessionIdle)
	}
	if b.MaxRoutes < 0 {
		bad("profile.build.max_routes", "%d: want 0 or more route groups (0: 200)", b.MaxRoutes)
	}
	if b.MomentChange < 0 || b.MomentChange != b.MomentChange {
		bad("profile.build.moment_change", "%v: want a fraction of 0 or more (0.3 = 30%%; 0: the default)", b.MomentChange)
	}
	if b.MomentWindow < 0 {
		bad("profile.build.moment_window", "%d: want 0 or more minutes (0: 3)", b.MomentWindow)
	}
	for _, c := range b.Class {
		if _, err := profile.ParseClass(c); err != nil {
			bad("profile.build.class", "%v", err)
		}
	}
	if err := checkProfileDir(b.Output); err != nil {
		bad("profile.build.output", "%v", err)
	}
	if err := checkPlotDir(s.Plot.Output); err != nil {
		bad("profile.plot.output", "%v", err)
	}
	errs = append(errs, s.Synth.validate()...)
	return errs
}

// checkProfileDir refuses a profile output that is a file or a directory
// with other things in it (profile.Write replaces only a profile).
func checkProfileDir(dir string) error {
	if dir == "" {
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	if !st.IsDir() {
		return fmt.Errorf("%s exists and is a file; want a directory for the profile", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, profile.MetaFile)); err == nil {
		return nil // a profile: replaced
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		return fmt.Errorf("%s exists and is not a profile (no %s); not replacing it", dir, profile.MetaFile)
	}
	return nil
}

// checkPlotDir refuses a plot output that is a file.
func checkPlotDir(dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("%s exists and is a file; want a directory for the plots", dir)
	}
	// Plots replace an earlier plot directory (it has index.html); any
	// other directory with files in it is someone else's.
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err == nil {
		return nil
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		return fmt.Errorf("%s exists and is not a plot directory (no index.html); not writing into it", dir)
	}
	return nil
}
