package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

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
A --from value that is a time (RFC 3339) or an offset from the capture start
(10m, +1h30m) sets the start of the replayed window instead; --to sets its end.
--capture, --window-from and --window-to are unambiguous spellings.

Only targets on the allowlist are contacted: loopback by default; add hosts,
IPs or CIDRs with --allow or targets.allow in the config. Ctrl-C stops
gracefully (requests in flight get --grace); a second Ctrl-C stops at once.`,
		Example: `  surge replay --from final.parquet --target http://127.0.0.1:8080 --ratio 3 --speed 1
  surge replay --from final/ --from 19:55 --to +20m --target https://staging.example.com --allow staging.example.com --ratio 2.5
  surge replay --config configs/event-3x.yaml --results results.parquet --summary-json summary.json
  surge replay --from final.parquet --target http://127.0.0.1:8080 --dry-run
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
	f.StringSlice("from", nil, "capture file, directory (repeatable) or kafka://HOST:PORT/TOPIC; a time or offset sets the window start")
	f.StringSlice("capture", nil, "capture file or directory (repeatable)")
	f.String("to", "", "window end: a time (RFC 3339) or an offset from the capture start")
	f.String("window-from", "", "window start: a time (RFC 3339) or an offset from the capture start")
	f.String("window-to", "", "window end (same as --to)")
	f.String("target", "", "base URL of the target, e.g. http://127.0.0.1:8080")
	f.StringSlice("allow", nil, "hosts, IPs or CIDRs the target may resolve to (default: loopback only)")
	f.Float64("ratio", 1, "virtual sessions per recorded session (any float >= 0)")
	f.StringArray("ratio-for", nil, "a class's ratio, CONDITION[,CONDITION]:RATIO (path=/live/**:10, device=tv:5); repeatable, first match wins (docs/SHAPING.md)")
	f.Float64("speed", 1, "time compression (10 = ten times faster)")
	f.Int("loop", 1, "passes over the window, back to back")
	f.Uint64("seed", 1, "run seed: the same seed gives the same clones and jitter")
	f.Duration("spread", shaper.DefaultSpread, "clone start jitter: clone k >= 1 starts up to this much later")
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
	f.String("accounts", "", "CSV of test accounts (columns account,token) for credential placeholders")
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
	gate        *gateOptions // thresholds, JUnit, surge time (gates.go)
	// settings are the per-class ratios and curves (--ratio-for, shape: in
	// the config), compiled once the window start is known (planReplay).
	settings shaper.Settings
	live     liveOptions // live control: API, config watcher (live.go)
	// nFlagClasses is how many of settings.Ratios come from --ratio-for.
	nFlagClasses int
}

func replayOptionsFrom(cfg *config) (*replayOptions, error) {
	v := cfg.v
	o := &replayOptions{
		results:     v.GetString("replay.results"),
		summaryJSON: v.GetString("replay.summary_json"),
		html:        v.GetString("replay.html"),
		web:         v.GetString("replay.web"),
		webToken:    v.GetString("replay.web_token"),
		webLinger:   v.GetDuration("replay.web_linger"),
		progress:    v.GetString("replay.progress"),
		dryRun:      v.GetBool("replay.dry_run"),
		force:       v.GetBool("replay.force"),
		routes:      v.GetInt("replay.routes"),
	}
	var errs []error
	o.captures = v.GetStringSlice("replay.capture")
	for _, f := range v.GetStringSlice("replay.from") {
		if isWindowBound(f) {
			o.window[0] = f
		} else {
			o.captures = append(o.captures, f)
		}
	}
	if w := v.GetString("replay.window_from"); w != "" {
		o.window[0] = w
	}
	o.window[1] = v.GetString("replay.to")
	if w := v.GetString("replay.window_to"); w != "" {
		o.window[1] = w
	}
	if len(o.captures) == 0 {
		errs = append(errs, errors.New("replay: no capture: give --from PATH"))
	}
	ratio := v.GetFloat64("replay.ratio")
	o.shape = shaper.Config{
		Speed:  v.GetFloat64("replay.speed"),
		Loops:  v.GetInt("replay.loop"),
		Ratio:  shaper.Constant(ratio),
		Seed:   v.GetUint64("replay.seed"),
		Spread: v.GetDuration("replay.spread"),
	}
	if ratio < 0 {
		errs = append(errs, fmt.Errorf("replay: --ratio %g is negative", ratio))
	}
	var serr error
	o.settings, o.nFlagClasses, serr = shapeSettings(cfg)
	if serr != nil {
		errs = append(errs, serr)
	}
	o.live = liveOptions{control: v.GetString("replay.control"), token: v.GetString("replay.control_token"),
		watch: v.GetBool("replay.watch"), file: cfg.file}
	errs = append(errs, o.live.check()...)
	if ratio == 0 && !o.settings.Shaped() {
		errs = append(errs, errors.New("replay: --ratio 0 schedules nothing: give a ratio above 0"))
	}
	// The shaper reads 0 as "not set" (1x); from the user it is a mistake.
	if o.shape.Speed == 0 {
		errs = append(errs, errors.New("replay: --speed 0: want a positive speed (1 = as recorded, 10 = ten times faster)"))
	}
	if o.shape.Loops < 1 {
		errs = append(errs, fmt.Errorf("replay: --loop %d: want 1 or more passes over the window", o.shape.Loops))
	}
	var gerrs []error
	o.gate, gerrs = gateOptionsFrom(cfg)
	errs = append(errs, gerrs...)
	errs = append(errs, o.shape.Validate()...)
	o.engine = replay.Config{
		Allow:       v.GetStringSlice("targets.allow"),
		Mode:        v.GetString("replay.mode"),
		Driver:      v.GetString("replay.driver"),
		HTTP2:       v.GetBool("replay.http2"),
		Insecure:    v.GetBool("replay.insecure"),
		MaxConns:    v.GetInt("replay.max_conns"),
		PerUser:     v.GetBool("replay.per_user"),
		Conns:       v.GetString("replay.conns"),
		Pipeline:    v.GetInt("replay.pipeline"),
		Timeout:     v.GetDuration("replay.timeout"),
		MaxRPS:      v.GetFloat64("replay.max_rps"),
		MaxLateness: v.GetDuration("replay.max_lateness"),
		Grace:       v.GetDuration("replay.grace"),
	}
	if rate := v.GetFloat64("replay.abort_error_rate"); rate > 0 {
		o.engine.Abort = &replay.AbortRule{Rate: rate, Window: v.GetDuration("replay.abort_window")}
	}
	badTarget := false // said once: the engine's "target: missing" would repeat it
	if t := v.GetString("replay.target"); t != "" {
		badTarget = true
		if !strings.Contains(t, "://") {
			errs = append(errs, fmt.Errorf("replay: --target %s: the target needs a scheme: http://%s", t, t))
		} else if u, err := url.Parse(t); err != nil {
			errs = append(errs, fmt.Errorf("replay: --target: %w", err))
		} else {
			o.engine.Target, badTarget = u, false
		}
	}
	for _, err := range o.engine.Validate() {
		if !badTarget || !strings.HasPrefix(err.Error(), "target:") {
			errs = append(errs, err)
		}
	}
	if path := v.GetString("replay.accounts"); path != "" {
		accounts, err := replay.LoadAccounts(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("replay: --accounts: %w", err))
		}
		o.engine.Accounts = accounts
	}
	// secrets: placeholder or header/parameter name -> value, for secrets
	// shared by every user (an app key); see replay.Config.Secrets.
	o.engine.Secrets = v.GetStringMapString("secrets")
	o.engine.SendTruncated = v.GetBool("replay.send_truncated")
	o.resolution = v.GetString("replay.time_resolution")
	if _, _, err := parseResolution(o.resolution); err != nil {
		errs = append(errs, err)
	}
	switch o.progress {
	case "auto", "plain", "none":
	default:
		errs = append(errs, fmt.Errorf("replay: --progress %q is not auto, plain or none", o.progress))
	}
	o.search, errs = searchFrom(v, errs)
	return o, errors.Join(errs...)
}

// isWindowBound reports whether a --from value is a time, a clock time or
// an offset rather than a path.
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
