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
written under a hidden name and renamed when complete; a start removes what
a killed run left half-written. -o kafka://HOST:PORT/TOPIC produces
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
	f.Duration("roll-age", eventlog.DefaultRollAge, "a Parquet part is closed and put in place after this long")
	f.Int64("roll-bytes", eventlog.DefaultRollBytes, "a Parquet part is closed after about this many bytes of events")
	f.Duration("drain-timeout", 30*time.Second, "on SIGTERM, how long to wait for requests in flight and the queue")
	f.Duration("for", 0, "stop after this long, as on SIGTERM (0: run until a signal)")
	f.StringSlice("scrub-headers", nil, "more header names to scrub")
	f.StringSlice("scrub-query", nil, "more query parameter names to scrub")
	f.StringSlice("scrub-fields", nil, "more JSON/form body field names to scrub")
	f.StringSlice("scrub-users", nil, "more query, body field or header names whose values are user ids")
	cfg.bindAll(cmd, "capture.proxy", "scrub-headers", "scrub-query", "scrub-fields", "scrub-users")
	cfg.bind(cmd, "scrub.users", "scrub-users")
	cfg.bind(cmd, "scrub.headers", "scrub-headers")
	cfg.bind(cmd, "scrub.query", "scrub-query")
	cfg.bind(cmd, "scrub.fields", "scrub-fields")
	return cmd
}

func proxyOptionsFrom(cfg *config) (*proxyOptions, error) {
	v := cfg.v
	const k = "capture.proxy."
	o := &proxyOptions{
		listen: v.GetString(k + "listen"), admin: v.GetString(k + "admin"), output: v.GetString(k + "output"),
		certFile: v.GetString(k + "tls_cert"), keyFile: v.GetString(k + "tls_key"),
		drain: v.GetDuration(k + "drain_timeout"), lifetime: v.GetDuration(k + "for"), rollAge: v.GetDuration(k + "roll_age"), rollBytes: v.GetInt64(k + "roll_bytes"),
	}
	raw := v.GetString(k + "upstream")
	if raw == "" {
		return nil, errors.New("capture proxy: --upstream URL is required")
	}
	up, err := url.Parse(raw)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, fmt.Errorf("capture proxy: --upstream %q: want http://HOST[:PORT] or https://HOST[:PORT]", raw)
	}
	o.upstream = up
	if o.output == "" {
		return nil, errors.New("capture proxy: -o DIR or -o kafka://HOST:PORT/TOPIC is required")
	}
	if kafkalog.IsAddr(o.output) {
		if _, err := kafkalog.ParseAddr(o.output); err != nil {
			return nil, fmt.Errorf("capture proxy: -o: %w", err)
		}
	} else if st, err := os.Stat(o.output); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("capture proxy: -o %s: not a directory (the proxy writes hive layout into a directory)", o.output)
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return nil, errors.New("capture proxy: --tls-cert and --tls-key go together")
	}
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return nil, fmt.Errorf("capture proxy: --listen %q: %v", o.listen, err)
	}
	session, err := capture.ParseSessionKey(v.GetString(k + "session_key"))
	if err != nil {
		return nil, fmt.Errorf("capture proxy: --session-key: %w", err)
	}
	sample := v.GetFloat64(k + "sample")
	if !(sample > 0 && sample <= 1) {
		return nil, fmt.Errorf("capture proxy: --sample %v: want a fraction in (0, 1]", sample)
	}
	var routes []capture.TapRoute
	for _, s := range v.GetStringSlice(k + "bodies") {
		r, err := capture.ParseTapRoute(s)
		if err != nil {
			return nil, fmt.Errorf("capture proxy: --bodies: %w", err)
		}
		routes = append(routes, r)
	}
	if o.drain <= 0 {
		return nil, fmt.Errorf("capture proxy: --drain-timeout %v: want more than 0", o.drain)
	}
	o.tap = capture.TapConfig{
		Upstream: up, Session: session, IdleGap: v.GetDuration(k + "idle_gap"), Sample: sample, Routes: routes,
		ClientHeader: v.GetString(k + "client_header"),
		QueueSize:    v.GetInt(k + "queue"), ReorderWindow: v.GetDuration(k + "reorder_window"),
		FlushInterval: v.GetDuration(k + "flush_interval"),
		Scrub: capture.ScrubConfig{
			Key:     []byte(v.GetString("scrub.key")),
			Headers: v.GetStringSlice("scrub.headers"),
			Query:   v.GetStringSlice("scrub.query"),
			Fields:  v.GetStringSlice("scrub.fields"),
			Users:   v.GetStringSlice("scrub.users"),
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
	out, err := openTapOutput(o, logw)
	if err != nil {
		return fmt.Errorf("capture proxy: -o %s: %w", o.output, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o.tap.Output, o.tap.Metrics, o.tap.ErrorLog = out, capture.NewTapMetrics(reg), errLog
	tap, err := capture.NewTap(o.tap)
	if err != nil {
		out.Close(capture.TapLoss{})
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		tap.Close(context.Background())
		return fmt.Errorf("capture proxy: --listen: %w", err)
	}
	srv := &http.Server{Handler: tap, ErrorLog: errLog, ReadHeaderTimeout: 30 * time.Second, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	errc := make(chan error, 2)
	go func() {
		if o.certFile != "" {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			errc <- srv.ServeTLS(ln, o.certFile, o.keyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()
	var admin *http.Server
	if o.admin != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
		admin = &http.Server{Addr: o.admin, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		aln, err := net.Listen("tcp", o.admin)
		if err != nil {
			srv.Close()
			tap.Close(context.Background())
			return fmt.Errorf("capture proxy: --admin: %w", err)
		}
		go func() { errc <- admin.Serve(aln) }()
		fmt.Fprintf(logw, "surge: metrics on http://%s/metrics\n", aln.Addr())
	}
	fmt.Fprintf(logw, "surge: capture proxy on %s -> %s, recording to %s\n", ln.Addr(), o.upstream, o.output)
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
