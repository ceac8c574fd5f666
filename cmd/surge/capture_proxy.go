package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/capture/tapout"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
)

// newCaptureCommand is the parent of the live capture commands.
func newCaptureCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "capture",
		Short: "Record live traffic (docs/CAPTURE.md)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCaptureProxyCommand(cfg))
	return cmd
}

// proxyOptions is everything surge capture proxy needs.
type proxyOptions struct {
	listen, admin, output string
	certFile, keyFile     string
	upstream              *url.URL
	drain                 time.Duration
	lifetime              time.Duration // stop after this long (0: at a signal)
	rollAge               time.Duration
	rollBytes             int64
	tap                   capture.TapConfig
}

func newCaptureProxyCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proxy --upstream URL -o DIR|kafka://HOST:PORT/TOPIC",
		Short: "Run a reverse proxy that records the HTTP and WebSocket traffic it passes",
		Long: `proxy listens for clients, passes every request on to --upstream
(HTTP/1.1, HTTP/2 over TLS or cleartext h2c, WebSocket upgrades) and records
each request as an exchange and each WebSocket message as a frame. Capture
never holds traffic up: events go through a bounded queue, and when the
output is slow or down they are dropped and counted
(surge_capture_dropped_events_total on the --admin listener's /metrics, and
the capture's metadata, shown by surge inspect).

Sessions use the import rules (--session-key cookie:NAME, header:NAME,
query:NAME or jwt:HEADER; else client address + user agent with --idle-gap).
--sample keeps a fraction of users by a keyed hash, whole sessions.
Secrets are scrubbed as by surge import (same key, placeholders, detectors).
Bodies and WebSocket payloads are not recorded unless --bodies names their
path prefix (sizes always are).

-o DIR writes hive layout (dt=YYYY-MM-DD/hour=HH/part-*.parquet, frames
under DIR/_frames), parts rolled by --roll-age and --roll-bytes, each
written under a hidden name and renamed when complete, with a write-ahead
segment synced at every --flush-interval; a start recovers the events a
killed run flushed (and says how many) and removes its half-written parts. -o kafka://HOST:PORT/TOPIC produces
exchanges to TOPIC and frames to TOPIC-frames. SIGTERM or SIGINT stops
accepting, waits for requests in flight, writes every queued event and
closes the output (bounded by --drain-timeout).`,
		Example: `  export SURGE_SCRUB_KEY=$(cat /run/secrets/surge-scrub-key)
  surge capture proxy --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000 -o capture/
  surge capture proxy --upstream http://127.0.0.1:9000 -o kafka://127.0.0.1:9092/captures --sample 0.1
  surge capture proxy --config configs/capture-proxy.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := proxyOptionsFrom(cfg)
			if err != nil {
				return &exitError{2, err}
			}
			if len(o.tap.Scrub.Key) == 0 {
				key, path, created, err := machineScrubKey()
				if err != nil {
					return &exitError{2, err}
				}
				if created {
					fmt.Fprintf(cmd.ErrOrStderr(), "surge: no scrub key given: created one at %s (mode 0600)\n", path)
				}
				o.tap.Scrub.Key = key
			}
			return runCaptureProxy(cmd, o)
		},
	}
	f := cmd.Flags()
	f.String("listen", "127.0.0.1:8080", "address clients connect to")
	f.String("upstream", "", "URL of the service behind the proxy, http:// or https:// (required)")
	f.StringP("output", "o", "", "output: a directory (hive layout, rolled parts) or kafka://HOST:PORT/TOPIC (required)")
	f.String("admin", "127.0.0.1:9090", "address of the admin listener (/metrics, /healthz); empty for none")
	f.String("tls-cert", "", "serve TLS (HTTP/2 by ALPN) with this certificate file")
	f.String("tls-key", "", "key file of --tls-cert")
	f.String("session-key", "", "where a client's session is: cookie:NAME, header:NAME, query:NAME or jwt:HEADER (default: client address + user agent)")
	f.Duration("idle-gap", capture.DefaultIdleGap, "idle time that ends a session")
	f.String("client-header", "", "request header whose first value is the client address for client-address sessions, e.g. X-Forwarded-For behind a load balancer (default: the connection's address)")
	f.Float64("sample", 1, "fraction of users recorded, whole sessions (0 < s ≤ 1)")
	f.StringSlice("bodies", nil, "record bodies and WebSocket payloads of paths with this prefix: PREFIX or PREFIX=LIMIT (bytes, KiB, MiB; default 64KiB bodies, 4KiB payloads)")
	f.Int("queue", capture.DefaultTapQueue, "events waiting for the recorder before new ones are dropped")
	f.Duration("reorder-window", capture.DefaultTapReorderWindow, "how long events are held to be written in request-start order")
	f.Duration("flush-interval", capture.DefaultTapFlushInterval, "how often the output is flushed (Kafka batches, metadata)")
	f.Int("recorder-nice", capture.RecorderNice, "nice value (1-19, Linux) of the recorder's thread; 10 shortens collection pauses on a saturated core, 19 keeps p99 lower below it (docs/CAPTURE.md)")
	f.Duration("roll-age", eventlog.DefaultRollAge, "a Parquet part is closed and put in place after this long")
	f.Int64("roll-bytes", eventlog.DefaultRollBytes, "a Parquet part is closed after about this many bytes of events")
	f.Duration("drain-timeout", 30*time.Second, "on SIGTERM, how long to wait for requests in flight and the queue")
	f.Duration("for", 0, "stop after this long, as on SIGTERM (0: run until a signal)")
	f.StringSlice("scrub-headers", nil, "more header names to scrub")
	f.StringSlice("scrub-query", nil, "more query parameter names to scrub")
	f.StringSlice("scrub-fields", nil, "more JSON/form body field names to scrub")
	f.StringSlice("scrub-users", nil, "more query, body field or header names whose values are user ids")
	// The scrub-* flags add to the scrub.* keys every command shares
	// (capture.proxy.scrub_headers, ...): one key has one flag.
	cfg.bindAll(cmd, "capture.proxy")
	return cmd
}

func proxyOptionsFrom(cfg *config) (*proxyOptions, error) {
	p := &cfg.s.Capture.Proxy
	l := func(key string) string { return cfg.label("capture.proxy." + key) }
	o := &proxyOptions{
		listen: p.Listen, admin: p.Admin, output: p.Output,
		certFile: p.TLSCert, keyFile: p.TLSKey,
		drain: p.DrainTimeout, lifetime: p.For, rollAge: p.RollAge, rollBytes: p.RollBytes,
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("capture proxy: "+format, args...)) }
	up, err := url.Parse(p.Upstream)
	switch {
	case p.Upstream == "":
		bad("%s URL is required", l("upstream"))
	case err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "":
		bad("%s %q: want http://HOST[:PORT] or https://HOST[:PORT]", l("upstream"), p.Upstream)
	}
	o.upstream = up
	if o.output == "" {
		bad("-o DIR or -o kafka://HOST:PORT/TOPIC is required")
	} else if kafkalog.IsAddr(o.output) {
		if _, err := kafkalog.ParseAddr(o.output); err != nil {
			bad("%s: %v", l("output"), err)
		}
	} else if st, err := os.Stat(o.output); err == nil && !st.IsDir() {
		bad("%s %s: not a directory (the proxy writes hive layout into a directory)", l("output"), o.output)
	}
	if (o.certFile == "") != (o.keyFile == "") {
		bad("%s and %s go together", l("tls_cert"), l("tls_key"))
	}
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		bad("%s %q: %v", l("listen"), o.listen, err)
	} else if proxyLoops(o.listen, up) {
		bad("%s %s is the proxy's own %s %s: every request would come back to the proxy", l("upstream"), p.Upstream, l("listen"), o.listen)
	}
	if o.admin != "" {
		if _, _, err := net.SplitHostPort(o.admin); err != nil {
			bad("%s %q: %v", l("admin"), o.admin, err)
		}
	}
	session, err := capture.ParseSessionKey(p.SessionKey)
	if err != nil {
		bad("%s: %v", l("session_key"), err)
	}
	if !(p.Sample > 0 && p.Sample <= 1) {
		bad("%s %v: want a fraction in (0, 1]", l("sample"), p.Sample)
	}
	var routes []capture.TapRoute
	for _, s := range p.Bodies {
		r, err := capture.ParseTapRoute(s)
		if err != nil {
			bad("%s: %v", l("bodies"), err)
			continue
		}
		routes = append(routes, r)
	}
	if o.drain <= 0 {
		bad("%s %v: want more than 0", l("drain_timeout"), o.drain)
	}
	for key, d := range map[string]time.Duration{"idle_gap": p.IdleGap, "reorder_window": p.ReorderWindow, "flush_interval": p.FlushInterval, "roll_age": p.RollAge, "for": p.For} {
		if d < 0 {
			bad("%s %v: want 0 or more", l(key), d)
		}
	}
	if p.Queue < 1 {
		bad("%s %d: want 1 or more events", l("queue"), p.Queue)
	}
	if p.RecorderNice < 1 || p.RecorderNice > 19 {
		bad("%s %d: want a nice value from 1 to 19 (the recorder always ranks below the requests)", l("recorder_nice"), p.RecorderNice)
	}
	if p.RollBytes < 0 {
		bad("%s %d: want 0 or more bytes", l("roll_bytes"), p.RollBytes)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	o.tap = capture.TapConfig{
		Upstream: up, Session: session, IdleGap: p.IdleGap, Sample: p.Sample, Routes: routes,
		ClientHeader: p.ClientHeader,
		QueueSize:    p.Queue, ReorderWindow: p.ReorderWindow,
		FlushInterval: p.FlushInterval, RecorderNice: p.RecorderNice,
		Scrub: capture.ScrubConfig{
			Key:     []byte(cfg.s.Scrub.Key),
			Headers: append(slices.Clip(cfg.s.Scrub.Headers), p.ScrubHeaders...),
			Query:   append(slices.Clip(cfg.s.Scrub.Query), p.ScrubQuery...),
			Fields:  append(slices.Clip(cfg.s.Scrub.Fields), p.ScrubFields...),
			Users:   append(slices.Clip(cfg.s.Scrub.Users), p.ScrubUsers...),
		},
	}
	return o, nil
}

// openTapOutput opens the proxy's output.
func openTapOutput(o *proxyOptions, logw io.Writer) (capture.TapOutput, error) {
	if kafkalog.IsAddr(o.output) {
		addr, err := kafkalog.ParseAddr(o.output)
		if err != nil {
			return nil, err
		}
		return tapout.NewKafka(addr, tapout.KafkaConfig{}), nil
	}
	p, err := tapout.OpenParquet(o.output, tapout.ParquetConfig{MaxAge: o.rollAge, MaxBytes: o.rollBytes})
	if err != nil {
		return nil, err
	}
	for _, r := range []eventlog.Recovery{p.Recovered, p.RecoveredFrames} {
		for _, path := range r.Torn {
			fmt.Fprintf(logw, "surge: %s ended in a torn record (the run was killed while writing it): one event lost\n", path)
		}
	}
	if n := p.Recovered.Events + p.RecoveredFrames.Events; n > 0 {
		fmt.Fprintf(logw, "surge: recovered %d events (%d exchanges, %d frames) a killed run left in its write-ahead segments, into %d parts\n",
			n, p.Recovered.Events, p.RecoveredFrames.Events, len(p.Recovered.Parts)+len(p.RecoveredFrames.Parts))
	}
	for _, path := range p.Removed {
		fmt.Fprintf(logw, "surge: removed %s, a part a stopped run did not finish\n", path)
	}
	return p, nil
}

func runCaptureProxy(cmd *cobra.Command, o *proxyOptions) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logw := cmd.ErrOrStderr()
	errLog := log.New(logw, "surge: ", log.LstdFlags)
	// The certificate and listeners first: a start that fails on a bad
	// certificate or a taken port leaves the output as it was (no
	// directory, no _surge.json).
	var tlsConfig *tls.Config
	if o.certFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return &exitError{2, fmt.Errorf("capture proxy: --tls-cert, --tls-key: %w", err)}
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("capture proxy: --listen: %w", err)
	}
	defer ln.Close()
	var aln net.Listener
	if o.admin != "" {
		if aln, err = net.Listen("tcp", o.admin); err != nil {
			return fmt.Errorf("capture proxy: --admin: %w", err)
		}
		defer aln.Close()
	}
	out, err := openTapOutput(o, logw)
	if err != nil {
		return fmt.Errorf("capture proxy: -o %s: %w", o.output, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o.tap.Output, o.tap.Metrics, o.tap.ErrorLog = out, capture.NewTapMetrics(reg), errLog
	gogc := capture.SetTapGC() // GOGC 400 unless set: collections are what requests wait for
	tap, err := capture.NewTap(o.tap)
	if err != nil {
		if a, ok := out.(interface{ Abort() }); ok {
			a.Abort()
		} else {
			out.Close(capture.TapLoss{})
		}
		return err
	}
	srv := &http.Server{Handler: tap, ErrorLog: errLog, ReadHeaderTimeout: 30 * time.Second, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	errc := make(chan error, 2)
	go func() {
		if tlsConfig != nil {
			srv.TLSConfig = tlsConfig
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	var admin *http.Server
	if aln != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
		admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- admin.Serve(aln) }()
		fmt.Fprintf(logw, "surge: metrics on http://%s/metrics\n", aln.Addr())
	}
	fmt.Fprintf(logw, "surge: capture proxy on %s -> %s, recording to %s (GOGC %d, recorder nice %d)\n", ln.Addr(), o.upstream, o.output, gogc, o.tap.RecorderNice)
	var serveErr error
	var lifetime <-chan time.Time
	if o.lifetime > 0 {
		lifetime = time.After(o.lifetime)
	}
	select {
	case <-ctx.Done():
	case <-lifetime:
	case serveErr = <-errc:
	}
	return shutdownProxy(srv, admin, tap, o.drain, logw, serveErr)
}

// shutdownProxy stops accepting, waits for requests in flight, then writes
// the queued events and closes the output, all within drain.
func shutdownProxy(srv, admin *http.Server, tap *capture.Tap, drain time.Duration, logw io.Writer, serveErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
	closeErr := tap.Close(ctx)
	if admin != nil {
		admin.Close()
	}
	l := tap.Loss()
	fmt.Fprintf(logw, "surge: capture stopped: %d exchanges and %d frames recorded, %d events dropped, %d sampled out, %d output errors\n",
		l.Exchanges, l.Frames, l.Dropped, l.SampledOut, l.OutputErrors)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("capture proxy: %w", serveErr)
	}
	if closeErr != nil {
		return fmt.Errorf("capture proxy: closing the output: %w", closeErr)
	}
	return nil
}
