package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/internal/memstat"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// importOptions is everything surge import needs, from flags and config.
type importOptions struct {
	format    string
	files     []string
	output    string
	force     bool // replace an existing output
	logFormat string
	rowGroup  int
	capture   capture.Options
}

var importFormats = append([]string{"combined", "nginx", "har", "gor", "jsonl", "views"}, sourceFormats...)

func newImportCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import <combined|nginx|har|gor|jsonl|views|apache|alb|cloudfront|envoy|caddy> FILES... -o PATH",
		Short: "Import traffic records into a Parquet event log",
		Long: `Import reads traffic records and writes surge's event log: time-ordered,
sessionized, scrubbed events in Parquet.

Formats:
  combined  nginx/Apache combined access log
  nginx     any nginx log_format, given with --log-format
  har       HAR 1.2 (browser export)
  gor       GoReplay .gor file
  jsonl     surge's own JSON lines (docs/FORMATS.md)
  views     viewing history as CSV (with header row) or JSON lines
` + sourceFormatHelp + `

Inputs may be gzip-compressed. Events are timed by request start (log time
minus request time), re-ordered within a window. Secrets (Authorization,
Cookie, X-Api-Key, ... and configured headers, query parameters and body
fields) become placeholders and user and session ids keyed hashes, with the
key from config scrub.key or SURGE_SCRUB_KEY (else this machine's own key,
made on first use in the user config directory, surge/scrub.key): a raw
secret never reaches the output, nor a skip reason or the import report. Bad records are skipped and counted (the first ones, with file:line,
are kept in the file's metadata; see surge inspect); --strict stops at the
first. PATH ending in .parquet is one file; any other PATH is a directory in
hive layout (dt=YYYY-MM-DD/hour=HH/part-NNNNN.parquet). Output is written
atomically: on failure nothing is left at PATH. PATH kafka://HOST:PORT/TOPIC
produces the events to a topic, keyed by session, created if missing
(?partitions=N, default 12; ?format=json for JSON values; docs/KAFKA.md);
records acknowledged before a failure stay in the topic.`,
		Example: `  export SURGE_SCRUB_KEY=$(cat /run/secrets/surge-scrub-key)
  surge import combined access.log -o capture.parquet
  surge import nginx --log-format '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time' access.log.gz -o final/
  surge import har --session-key cookie:sid session.har -o har.parquet
  surge import gor requests.gor -o gor.parquet
  surge import views views.csv -o views.parquet
  surge import apache --log-format '%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D' ssl_access_log -o final/
  surge import combined access.log -o kafka://127.0.0.1:9092/captures
  surge import alb 123456789012_elasticloadbalancing_*.log.gz -o alb.parquet
  surge import combined --config configs/capture.yaml edge-*.log.gz -o final/`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := importOptionsFrom(cfg, args)
			if err != nil {
				return &exitError{2, err}
			}
			if len(o.capture.Scrub.Key) == 0 {
				// A key given by config or environment always wins; else
				// the machine's own, made on first use.
				key, path, created, err := machineScrubKey()
				if err != nil {
					return &exitError{2, err}
				}
				if created {
					fmt.Fprintf(cmd.ErrOrStderr(), "surge: no scrub key given: created one at %s (mode 0600), used from now on; to share ids with your team, share one key (see README)\n", path)
				}
				o.capture.Scrub.Key = key
			}
			return runImport(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringP("output", "o", "", "output: FILE.parquet, a directory for hive layout, or kafka://HOST:PORT/TOPIC (required)")
	f.Bool("force", false, "replace an existing output (only once the new one is complete)")
	f.String("log-format", "", "nginx log_format string (or the whole log_format directive pasted from nginx.conf) for the nginx format, Apache LogFormat for apache (@FILE reads it from a file)")
	f.String("session-key", "", "where a client's session id is when the source has none: cookie:NAME, header:NAME or query:NAME (default: client address + user agent)")
	f.Duration("idle-gap", capture.DefaultIdleGap, "idle time that ends a session")
	f.Duration("reorder-window", capture.DefaultReorderWindow, "how far back a record may start and still be put in order")
	f.Bool("strict", false, "stop at the first bad record instead of skipping it")
	f.Int("max-problems", capture.DefaultMaxProblems, "bad records kept as examples in the import report")
	f.String("host", capture.DefaultHost, "host of records that name none")
	f.Int("row-group-rows", eventlog.DefaultRowGroupRows, "events per Parquet row group")
	f.StringSlice("scrub-headers", nil, "more header names to scrub")
	f.StringSlice("scrub-query", nil, "more query parameter names to scrub")
	f.StringSlice("scrub-fields", nil, "more JSON/form body field names to scrub")
	f.StringSlice("scrub-users", nil, "more query, body field or header names whose values are user ids (hashed like the user key)")
	cfg.bindAll(cmd, "import", "scrub-headers", "scrub-query", "scrub-fields", "scrub-users")
	cfg.bind(cmd, "scrub.users", "scrub-users")
	cfg.bind(cmd, "scrub.headers", "scrub-headers")
	cfg.bind(cmd, "scrub.query", "scrub-query")
	cfg.bind(cmd, "scrub.fields", "scrub-fields")
	return cmd
}

func importOptionsFrom(cfg *config, args []string) (*importOptions, error) {
	o := &importOptions{
		format:    args[0],
		files:     args[1:],
		output:    cfg.s.Import.Output,
		logFormat: cfg.s.Import.LogFormat,
		rowGroup:  cfg.s.Import.RowGroupRows,
		force:     cfg.s.Import.Force,
	}
	if !slices.Contains(importFormats, o.format) {
		return nil, fmt.Errorf("import: unknown format %q (want one of %s)", o.format, strings.Join(importFormats, ", "))
	}
	if o.output == "" {
		return nil, errors.New("import: -o PATH is required")
	}
	if err := checkOutputs(o.force, map[string]string{cfg.label("import.output"): o.output}); err != nil {
		return nil, err
	}
	if kafkalog.IsAddr(o.output) {
		if o.format == "views" {
			return nil, errors.New("import: a kafka:// output holds exchanges; write viewing events to Parquet")
		}
		if _, err := kafkalog.ParseAddr(o.output); err != nil {
			return nil, fmt.Errorf("import: -o: %w", err)
		}
	}
	if o.format == "nginx" && o.logFormat == "" {
		return nil, errors.New("import: the nginx format needs --log-format (or import.log_format in the config)")
	}
	if path, ok := strings.CutPrefix(o.logFormat, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("import: --log-format: %w", err)
		}
		o.logFormat = strings.TrimSpace(string(b))
	}
	key, err := capture.ParseSessionKey(cfg.s.Import.SessionKey)
	if err != nil {
		return nil, fmt.Errorf("import: --session-key: %w", err)
	}
	o.capture = capture.Options{
		Session:       key,
		IdleGap:       cfg.s.Import.IdleGap,
		ReorderWindow: cfg.s.Import.ReorderWindow,
		Strict:        cfg.s.Import.Strict,
		MaxProblems:   cfg.s.Import.MaxProblems,
		Host:          cfg.s.Import.Host,
		Scrub: capture.ScrubConfig{
			Key:     []byte(cfg.s.Scrub.Key),
			Headers: cfg.s.Scrub.Headers,
			Query:   cfg.s.Scrub.Query,
			Fields:  cfg.s.Scrub.Fields,
			Users:   cfg.s.Scrub.Users,
		},
	}
	return o, nil
}

// importMemoryLimit is the soft memory limit of an import (unless GOMEMLIMIT
// is set): the live heap is small (the re-order window, live sessions, one
// chunk of rows), and the limit makes the collector keep up when other
// processes starve its background workers, which otherwise let the heap run
// to twice and more of what is live.
const importMemoryLimit = 160 << 20

func runImport(cmd *cobra.Command, o *importOptions) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(importMemoryLimit))
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd.SetContext(ctx)
	start := time.Now()
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	open := func(path string) (io.Reader, error) {
		r, err := capture.OpenFile(path)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		closers = append(closers, r)
		return r, nil
	}
	var (
		rep *capture.Report
		err error
	)
	cfg := eventlog.WriterConfig{Source: o.format, RowGroupRows: o.rowGroup, Replace: o.force}
	if o.format == "views" {
		rep, err = importViews(cmd, o, cfg, open)
	} else {
		rep, err = importExchanges(cmd, o, cfg, open)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	w := cmd.ErrOrStderr()
	sessions := ""
	if rep.Sessions > 0 {
		sessions = " (" + plural(rep.Sessions, "session", "sessions") + ")"
	}
	memory := ""
	if rss := memstat.PeakRSS(); rss > 0 {
		memory = fmt.Sprintf(", peak RSS %d MiB", rss>>20)
	}
	fmt.Fprintf(w, "imported %s%s from %s in %s in %s (%s records/s%s) -> %s\n",
		plural(rep.Events, "event", "events"), sessions, plural(rep.Records, "record", "records"),
		plural(int64(len(rep.Files)), "file", "files"), elapsed.Round(time.Millisecond),
		report.Count(int64(float64(rep.Records)/elapsed.Seconds())), memory, o.output)
	if rep.Disordered > 0 || rep.Late > 0 {
		fmt.Fprintf(w, "  %s out of request-start order (max %s), put back in order\n",
			plural(rep.Disordered, "record", "records"), time.Duration(rep.MaxDisorderMS)*time.Millisecond)
	}
	if rep.Late > 0 {
		fmt.Fprintf(w, "  %s later than the re-order window (--reorder-window %s): written, but sessionized after records that followed it\n",
			plural(rep.Late, "record came", "records came"), o.capture.ReorderWindow)
	}
	if rep.Truncated > 0 {
		fmt.Fprintf(w, "  %s with a body kept in part: replay skips them (dropped_truncated) unless --send-truncated\n",
			plural(rep.Truncated, "request", "requests"))
		for _, pr := range rep.TruncatedAt {
			fmt.Fprintf(w, "    %s\n", problemString(pr))
		}
	}
	if rep.NoSessionKey > 0 {
		fmt.Fprintf(w, "  %s without the session key %s: sessionized by client address and user agent\n",
			plural(rep.NoSessionKey, "record", "records"), o.capture.Session)
	}
	if rep.Late > 0 && kafkalog.IsAddr(o.output) {
		// A topic cannot be sorted afterwards as a Parquet file is, and a
		// reader refuses a partition out of time order.
		fmt.Fprintf(w, "  warning: the %d late records went to the topic out of time order; reading their partitions will fail at them: import again with a larger --reorder-window\n", rep.Late)
	}
	if rep.Frames > 0 {
		fmt.Fprintf(w, "  %s of WebSocket connections -> %s\n", plural(rep.Frames, "frame", "frames"), eventlog.FramesPath(o.output))
	}
	if rep.FramesDropped > 0 {
		fmt.Fprintf(w, "  %s of WebSocket connections not written: a Kafka output takes exchanges only\n", plural(rep.FramesDropped, "frame", "frames"))
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(w, "  %s skipped; first:\n", plural(rep.Skipped, "bad record", "bad records"))
		for _, p := range rep.Problems[:min(len(rep.Problems), 5)] {
			fmt.Fprintf(w, "    %s\n", problemString(p))
		}
	}
	return nil
}

func problemString(p capture.Problem) string {
	e := capture.RecordError{Pos: capture.Position{File: p.File, Line: p.Line, Offset: p.Offset}, Field: p.Field, Reason: p.Reason}
	return e.Error()
}

type opener func(path string) (io.Reader, error)

func importExchanges(cmd *cobra.Command, o *importOptions, cfg eventlog.WriterConfig, open opener) (*capture.Report, error) {
	var inputs []capture.Input
	for _, path := range o.files {
		r, err := open(path)
		if err != nil {
			return nil, err
		}
		dec, err := exchangeDecoder(o, r, path)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, capture.Input{Name: path, Decode: dec})
	}
	sink, err := createExchangeSink(cmd.Context(), o.output, cfg)
	if err != nil {
		return nil, err
	}
	opts := o.capture
	frames := &frameSink{path: eventlog.FramesPath(o.output), cfg: cfg}
	if !kafkalog.IsAddr(o.output) {
		opts.Frames = frames.add
	}
	rep, err := capture.Import(cmd.Context(), inputs, opts, func(e *schema.Exchange) error {
		return sink.Add(e)
	})
	if ferr := frames.finish(err == nil && rep.Events > 0); err == nil {
		err = ferr
	}
	return rep, finish(sink, o, rep, err)
}

func exchangeDecoder(o *importOptions, r io.Reader, path string) (capture.Decoder, error) {
	switch o.format {
	case "combined":
		return capture.NewCombinedDecoder(r, path), nil
	case "nginx":
		dec, err := capture.NewNginxDecoder(r, path, o.logFormat)
		if err != nil {
			return nil, fmt.Errorf("import: --log-format: %w", err)
		}
		return dec, nil
	case "har":
		return capture.NewHARDecoder(r, path), nil
	case "gor":
		return capture.NewGorDecoder(r, path), nil
	case "jsonl":
		return capture.NewJSONLDecoder(r, path), nil
	}
	if dec, ok, err := sourceDecoder(o, r, path); ok {
		return dec, err
	}
	return nil, fmt.Errorf("import: no decoder for %q", o.format)
}

func importViews(cmd *cobra.Command, o *importOptions, cfg eventlog.WriterConfig, open opener) (*capture.Report, error) {
	var inputs []capture.ViewInput
	for _, path := range o.files {
		r, err := open(path)
		if err != nil {
			return nil, err
		}
		var dec capture.ViewDecoder
		if isCSV(path) {
			if dec, err = capture.NewViewsCSVDecoder(r, path); err != nil {
				return nil, fmt.Errorf("import: %w", err)
			}
		} else {
			dec = capture.NewViewsJSONLDecoder(r, path)
		}
		inputs = append(inputs, capture.ViewInput{Name: path, Decode: dec})
	}
	sink, err := eventlog.CreateSink[schema.ViewingEvent](o.output, cfg)
	if err != nil {
		return nil, err
	}
	rep, err := capture.ImportViews(cmd.Context(), inputs, o.capture, func(v *schema.ViewingEvent) error {
		return sink.Add(v)
	})
	return rep, finish(sink, o, rep, err)
}

func isCSV(path string) bool {
	return strings.EqualFold(filepath.Ext(strings.TrimSuffix(path, ".gz")), ".csv")
}

// finish closes the sink with the import report in its metadata, or aborts
// it (leaving nothing at the output path) when the import failed or found
// nothing.
func finish[T any](sink eventlog.Sink[T], o *importOptions, rep *capture.Report, err error) error {
	if err == nil && rep.Events == 0 {
		err = fmt.Errorf("import: no events in %s (%d records, %d bad)", strings.Join(o.files, ", "), rep.Records, rep.Skipped)
		if len(rep.Problems) > 0 {
			err = fmt.Errorf("%w; first: %s", err, problemString(rep.Problems[0]))
		}
	}
	if err != nil {
		sink.Abort()
		return err
	}
	rep.Format = o.format
	b, err := json.Marshal(rep)
	if err != nil {
		sink.Abort()
		return err
	}
	sink.SetMetadata(schema.MetaProblems, string(b))
	if rep.TimeResolution != "" {
		sink.SetMetadata(schema.MetaResolution, rep.TimeResolution)
	}
	return sink.Close()
}
