package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/capacity"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// exitSignal is the exit code of a replay stopped by Ctrl-C (see
// exitcode.go for the others).
const exitSignal = 130

func newReplayCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay --from CAPTURE --target URL [--ratio R] [--speed S]",
		Short: "Replay a capture against a target, open loop, amplified by a ratio",
		Long: `Replay sends the recorded requests of a capture to a target, each at its
scheduled time whether or not earlier ones were answered (open loop), and
reports what the target did and how faithfully the replay ran.

--ratio R makes each recorded session R sessions on the same timeline (3 = three
times the users, not three times the speed): ⌊R⌋ clones plus one more with
probability R − ⌊R⌋, deterministic by --seed, each clone a distinct virtual
user, shifted by up to --spread. --speed S compresses time (10 = ten times
faster). Latency is measured from the intended send time (no coordinated
omission) and from the actual send; the generator's own lateness is reported.

--from names the capture (a .parquet file or a hive directory; repeat for more),
or a topic, kafka://HOST:PORT/TOPIC, read alone: each partition is looked up
by timestamp at the window's start and read to its end offset at the time.
The window replayed is --window-from to --window-to (--to is the same as
--window-to): each a time (RFC 3339), a clock time on the capture's first day
(19:55) or an offset from the capture start (10m); --window-to +20m counts
from the window's start. A window outside the capture is an error that
prints the capture's time range.

--profile PROFILE (a surge profile build directory) re-times the capture to
the profile's arrival curve before all of the above: the capture's recorded
sessions, copied whole under new ids, start so that new sessions per minute
are the profile's over its span (docs/PROFILES.md, surge profile synth).

Only targets on the allowlist are contacted: loopback by default; add hosts,
IPs or CIDRs with --allow or targets.allow in the config. Ctrl-C stops
gracefully (requests in flight get --grace); a second Ctrl-C stops at once.`,
		Example: `  surge replay --from final.parquet --target http://127.0.0.1:8080 --ratio 3 --speed 1
  surge replay --from final/ --window-from 19:55 --window-to +20m --target https://staging.example.com --allow staging.example.com --ratio 2.5
  surge replay --config configs/event-3x.yaml --results results.parquet --summary-json summary.json
  surge replay --from final.parquet --target http://127.0.0.1:8080 --dry-run
  surge replay --from final.parquet --profile profiles/final --target http://127.0.0.1:8080 --dry-run
  surge replay --from kafka://127.0.0.1:9092/captures --window-from 2026-11-21T19:55:00Z --window-to +20m --target http://127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := replayOptionsFrom(cfg)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			return runReplay(cmd, o, nil)
		},
	}
	addReplayFlags(cmd)
	cfg.bindAll(cmd, "replay", "allow")
	cfg.bind(cmd, "targets.allow", "allow")
	return cmd
}

func addReplayFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSlice("from", nil, "capture file, directory (repeatable) or kafka://HOST:PORT/TOPIC")
	f.StringSlice("capture", nil, "capture file or directory (repeatable)")
	f.String("to", "", "window end (same as --window-to)")
	f.String("window-from", "", "window start: a time (RFC 3339), a clock time on the capture's first day (19:55) or an offset from the capture start (10m)")
	f.String("window-to", "", "window end, the same forms; +20m counts from the window start (default: the capture's end)")
	f.String("target", "", "base URL of the target, e.g. http://127.0.0.1:8080")
	f.StringSlice("allow", nil, "hosts, IPs or CIDRs the target may resolve to (default: loopback only)")
	f.Float64("ratio", 1, "virtual sessions per recorded session (any float >= 0)")
	f.StringArray("ratio-for", nil, "a class's ratio, CONDITION[,CONDITION]:RATIO (path=/live/**:10, device=tv:5); repeatable, first match wins (docs/SHAPING.md)")
	f.Float64("speed", 1, "time compression (10 = ten times faster)")
	f.Int("loop", 1, "passes over the window, back to back")
	f.Uint64("seed", 1, "run seed: the same seed gives the same clones and jitter")
	f.Duration("spread", shaper.DefaultSpread, "clone start jitter: clone k >= 1 starts up to this much later (0: no jitter)")
	f.String("mode", replay.Timeline, "timeline (each request at its time) or closed (after the previous response + think time)")
	f.String("driver", replay.DriverAuto, "auto, lean (HTTP/1.1, fastest) or http (net/http: HTTP/2, TLS)")
	f.Bool("http2", false, "use HTTP/2 (net/http driver)")
	f.Bool("insecure", false, "skip TLS certificate verification")
	f.String("conns", replay.ConnsPerUser, "connection model: per-user (each virtual user its own, as a browser: HTTP/1.1 up to 6, HTTP/2 one) or shared (one pool, as vegeta/wrk)")
	f.Int("max-conns", 0, "connections at most, in all (0: 512 shared, 16384 per user)")
	f.Bool("per-user", false, "each virtual user its own connections (the default; same as --conns per-user)")
	f.Int("pipeline", 1, "HTTP/1.1 requests in flight per connection, lean driver (1: no pipelining)")
	f.Duration("timeout", 30*time.Second, "per-request timeout from its send")
	f.Float64("max-rps", 0, "send rate cap; requests over it are dropped (0: none)")
	f.Duration("max-lateness", 10*time.Second, "drop a request the generator could not send within this of its time (negative: never)")
	f.Float64("abort-error-rate", 0, "abort when the error rate over --abort-window exceeds this fraction (0: never)")
	f.Duration("abort-window", 10*time.Second, "window of the abort condition")
	f.Duration("grace", 10*time.Second, "after a stop, how long requests in flight may finish")
	f.String("accounts", "", "test accounts for credential placeholders: a pool directory (surge accounts build: clone k of user u signs in as one of u's accounts) or a CSV (columns account,token)")
	f.String("accounts-exhausted", accounts.ExhaustedShare, "when a virtual user finds every fitting account in use: share (share one, counted in the report) or stop (stop the run)")
	f.String("profile", "", "re-time the capture's sessions to this profile's arrival curve (a surge profile build directory): sessions copied whole, new sessions per minute as the profile's (docs/PROFILES.md)")
	f.String("time-resolution", "auto", "spread requests sharing an instant of this resolution evenly over it: auto (the resolution the import recorded), 0 (none: exact times) or a duration (1s)")
	f.Bool("send-truncated", false, "send requests whose body the capture kept in part, with the bytes kept (default: skip them, counted as dropped_truncated)")
	f.String("results", "", "write every request's result to this Parquet file (or hive directory)")
	f.String("summary-json", "", "write the run summary as JSON to this file")
	f.String("html", "", "write the run's report as one self-contained HTML page to this file (docs/REPORT.md)")
	f.String("web", "", "serve the live view and Prometheus /metrics on this host:port, e.g. 127.0.0.1:5665 (beyond loopback needs --web-token)")
	f.String("web-token", "", "token the --web listener requires (Authorization: Bearer, or ?token=); required beyond loopback")
	addSearchFlags(cmd)
	f.Duration("web-linger", 0, "after the run, keep serving the final report and metrics on --web this long (Ctrl-C ends it)")
	f.String("progress", "auto", "live progress: auto (a line that updates on a terminal, periodic lines otherwise), plain, none")
	f.Bool("dry-run", false, "print the plan and exit without sending anything")
	f.String("control", "", "serve the HTTP control API (GET/PATCH /v1/run, POST /v1/run/pause|resume|stop|exit) on HOST:PORT; a bare port binds 127.0.0.1")
	f.String("control-token", "", "token the control API requires (Authorization: Bearer); required for a non-loopback --control")
	f.Bool("watch", false, "reload the shaping (shape:, replay.ratio) from the --config file whenever it changes, while the run goes on")
	f.Bool("force", false, "replace existing outputs (--results, --summary-json, --html, --junit)")
	addGateFlags(cmd)
	addRoutesFlag(cmd)
}

// replayOptions is everything surge replay needs.
type replayOptions struct {
	captures    []string
	resolution  string    // --time-resolution: "auto", "0" or a duration
	window      [2]string // from, to as given
	shape       shaper.Config
	engine      replay.Config
	results     string
	summaryJSON string
	html        string // --html: the HTML report (replay_html.go)
	web         string // --web: live view and metrics listener (replay_web.go)
	webToken    string
	webLinger   time.Duration
	search      *capacity.Search // --search-capacity (replay_search.go)
	routes      int              // --routes
	force       bool             // replace existing outputs
	progress    string
	dryRun      bool
	gate        *gateOptions      // thresholds, JUnit, surge time (gates.go)
	outputs     map[string]string // the outputs above by how the user named them (--results, or replay.results from the file), for checkOutputs
	// settings are the per-class ratios and curves (--ratio-for, shape: in
	// the config), compiled once the window start is known (planReplay).
	settings shaper.Settings
	live     liveOptions // live control: API, config watcher (live.go)
	// nFlagClasses is how many of settings.Ratios come from --ratio-for.
	nFlagClasses int
	// accountsSource is --accounts; accountsLoad how long loading the
	// pool's index took (replay_accounts.go).
	accountsSource string
	accountsLoad   time.Duration
	// profile re-times the capture to a profile's arrival curve
	// (--profile, replay_profile.go); nil without.
	profile *replayProfile
}

func replayOptionsFrom(cfg *config) (*replayOptions, error) {
	o := &replayOptions{
		results:     cfg.s.Replay.Results,
		summaryJSON: cfg.s.Replay.SummaryJSON,
		progress:    cfg.s.Replay.Progress,
		dryRun:      cfg.s.Replay.DryRun,
		force:       cfg.s.Replay.Force,
		routes:      cfg.s.Replay.Routes,
		html:        cfg.s.Replay.HTML,
		web:         cfg.s.Replay.Web,
		webToken:    cfg.s.Replay.WebToken,
		webLinger:   cfg.s.Replay.WebLinger,
	}
	var errs []error
	o.captures = cfg.s.Replay.Capture
	for _, f := range cfg.s.Replay.From {
		// --from names captures only: a time there used to start the
		// window, and a path that looks like one ("10m") is still a path.
		if _, err := os.Stat(f); err != nil && isWindowBound(f) {
			errs = append(errs, fmt.Errorf("%s %s is a time, not a capture: the window's start is --window-from %s (replay.window_from)", cfg.label("replay.from"), f, f))
			continue
		}
		o.captures = append(o.captures, f)
	}
	if w := cfg.s.Replay.WindowFrom; w != "" {
		o.window[0] = w
	}
	o.window[1] = cfg.s.Replay.To
	if w := cfg.s.Replay.WindowTo; w != "" {
		o.window[1] = w
	}
	if len(o.captures) == 0 {
		errs = append(errs, errors.New("replay: no capture: give --from PATH"))
	}
	// Ratio, speed, loop, progress, mode, driver and conns were checked
	// when the config was decoded (settings.Validate).
	ratio := cfg.s.Replay.Ratio
	o.shape = shaper.Config{
		Speed:  cfg.s.Replay.Speed,
		Loops:  cfg.s.Replay.Loop,
		Ratio:  shaper.Constant(ratio),
		Seed:   cfg.s.Replay.Seed,
		Spread: noneIfZero(cfg.s.Replay.Spread),
	}
	var serr error
	o.settings, o.nFlagClasses, serr = shapeSettings(cfg)
	if serr != nil {
		errs = append(errs, serr)
	}
	o.live = liveOptions{control: cfg.s.Replay.Control, token: cfg.s.Replay.ControlToken,
		watch: cfg.s.Replay.Watch, file: cfg.file}
	errs = append(errs, o.live.check(cfg.label)...)
	if ratio == 0 && !o.settings.Shaped() {
		errs = append(errs, errors.New("replay: --ratio 0 schedules nothing: give a ratio above 0"))
	}
	var gerrs []error
	o.gate, gerrs = gateOptionsFrom(cfg)
	errs = append(errs, gerrs...)
	o.outputs = map[string]string{
		cfg.label("replay.results"): o.results, cfg.label("replay.summary_json"): o.summaryJSON, cfg.label("replay.junit"): o.gate.junit,
		cfg.label("replay.html"): o.html,
	}
	errs = append(errs, o.shape.Validate()...)
	o.engine = replay.Config{
		Allow:       cfg.s.Targets.Allow,
		Mode:        cfg.s.Replay.Mode,
		Driver:      cfg.s.Replay.Driver,
		HTTP2:       cfg.s.Replay.HTTP2,
		Insecure:    cfg.s.Replay.Insecure,
		MaxConns:    cfg.s.Replay.MaxConns,
		PerUser:     cfg.s.Replay.PerUser,
		Conns:       cfg.s.Replay.Conns,
		Pipeline:    cfg.s.Replay.Pipeline,
		Timeout:     cfg.s.Replay.Timeout,
		MaxRPS:      cfg.s.Replay.MaxRPS,
		MaxLateness: cfg.s.Replay.MaxLateness,
		Grace:       cfg.s.Replay.Grace,
	}
	if rate := cfg.s.Replay.AbortErrorRate; rate > 0 {
		o.engine.Abort = &replay.AbortRule{Rate: rate, Window: cfg.s.Replay.AbortWindow}
	}
	if t := cfg.s.Replay.Target; t != "" {
		// Its form (scheme, host) was checked when the config was decoded
		// (checkTarget), so the error names where it came from.
		o.engine.Target, _ = url.Parse(t)
	}
	errs = append(errs, o.engine.Validate()...)
	errs = append(errs, o.loadAccounts(cfg)...) // replay_accounts.go
	// secrets: placeholder or header/parameter name -> value, for secrets
	// shared by every user (an app key); see replay.Config.Secrets.
	o.engine.Secrets = cfg.s.Secrets
	o.engine.SendTruncated = cfg.s.Replay.SendTruncated
	errs = append(errs, regionsFrom(cfg, &o.engine)...)
	o.resolution = cfg.s.Replay.TimeResolution
	if _, _, err := parseResolution(o.resolution); err != nil {
		errs = append(errs, fmt.Errorf("%s %w", cfg.label("replay.time_resolution"), err))
	}
	if o.web != "" {
		if _, _, err := net.SplitHostPort(o.web); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want HOST:PORT, e.g. 127.0.0.1:5665 (%v)", cfg.label("replay.web"), o.web, err))
		}
	}
	if dir := cfg.s.Replay.Profile; dir != "" {
		var err error
		if o.profile, err = loadReplayProfile(dir, cfg.label("replay.profile")); err != nil {
			errs = append(errs, err)
		}
	}
	o.search, errs = searchFrom(cfg, errs)
	return o, errors.Join(errs...)
}

// isWindowBound reports whether a --from value is a time, a clock time or
// an offset: a window bound given where a capture belongs.
func isWindowBound(s string) bool {
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return true
	}
	for _, layout := range clockLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	_, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
	return err == nil
}

// openCapture returns an Opener over the capture in rng, for the shaper.
func openCapture(files []string, rng eventlog.Range) shaper.Opener {
	return func() (shaper.Source, error) {
		// The replay projection: no response facts to decode.
		rd, err := eventlog.Open[schema.RequestLine](files, rng)
		if err != nil {
			return nil, err
		}
		return func() (*schema.Exchange, error) {
			l, err := rd.Next()
			if err != nil {
				rd.Close()
				return nil, err
			}
			ev := l.Exchange() // the shaper keeps it; the reader reuses its batch
			return &ev, nil
		}, nil
	}
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// signals turns the first interrupt into stop and the second into cancel.
func signals(cancel context.CancelFunc) (stop chan struct{}, release func()) {
	stop = make(chan struct{})
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range ch {
			if n++; n == 1 {
				fmt.Fprintln(os.Stderr, "\nsurge: stopping: requests in flight may finish (Ctrl-C again to stop at once)")
				close(stop)
			} else {
				cancel()
				return
			}
		}
	}()
	return stop, func() { signal.Stop(ch) }
}

// progressLoop prints agg's progress to w until done: an updating line on a
// terminal, a line every 5 s otherwise.
func progressLoop(w io.Writer, mode string, tty bool, agg *report.Aggregator, total time.Duration, done <-chan struct{}) {
	if mode == "none" {
		return
	}
	live := mode == "auto" && tty
	every := 5 * time.Second
	if live {
		every = 250 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if live {
				fmt.Fprintln(w)
			}
			return
		case <-tick.C:
			p := agg.Snapshot()
			p.Total = total
			if live {
				fmt.Fprintf(w, "\r\033[K%s", p)
			} else {
				fmt.Fprintln(w, p)
			}
		}
	}
}

// noneIfZero maps a --spread of 0 (no jitter, as the user means it) to the
// shaper's "none" (negative): the shaper reads zero as "not set", which
// the flag's default already fills.
func noneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
