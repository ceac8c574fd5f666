package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/schema"
)

// tailOptions is everything surge kafka tail needs.
type tailOptions struct {
	addr   kafkalog.Addr
	start  kafkalog.TailConfig
	count  int
	format string
}

func newKafkaTailCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tail TOPIC [--brokers B] [--from-beginning | --since D] [-n N] [--format text|json]",
		Short: "Print a topic's events as they arrive, one per line",
		Long: `Tail follows every partition of TOPIC and prints each event, decoded, on one
line: in order within a partition (so within a session), not across
partitions. It starts at the end (new events only), at the beginning
(--from-beginning) or at the first event at or after a time (--since: a
duration ago, 10m, or an RFC 3339 time). It stops after -n events, or on
Ctrl-C. TOPIC may also be a whole kafka://HOST:PORT/TOPIC address.

--format text prints time, partition/offset, session, method, URL and status;
--format json prints each event as the JSON object of the JSON wire format.`,
		Example: `  surge kafka tail captures --brokers 127.0.0.1:9092 --since 5m
  surge kafka tail captures --from-beginning -n 10 --format json | jq .path`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := tailOptionsFrom(cfg, args[0], time.Now())
			if err != nil {
				return &exitError{exitUsage, err}
			}
			return runTail(cmd, o)
		},
	}
	f := cmd.Flags()
	f.String("brokers", "127.0.0.1:9092", "bootstrap brokers, HOST:PORT[,HOST:PORT...]")
	f.Bool("from-beginning", false, "start at each partition's first event")
	f.String("since", "", "start at the first event at or after this time: a duration ago (10m) or RFC 3339")
	f.IntP("count", "n", 0, "stop after this many events (0: follow until Ctrl-C)")
	f.String("format", "text", "text or json")
	cfg.bindAll(cmd, "kafka.tail")
	return cmd
}

func tailOptionsFrom(cfg *config, topic string, now time.Time) (*tailOptions, error) {
	o := &tailOptions{count: cfg.s.Kafka.Tail.Count, format: cfg.s.Kafka.Tail.Format}
	s := topic
	if !kafkalog.IsAddr(topic) {
		s = kafkalog.Scheme + "://" + cfg.s.Kafka.Tail.Brokers + "/" + topic
	}
	var errs []error
	var err error
	if o.addr, err = kafkalog.ParseAddr(s); err != nil {
		errs = append(errs, fmt.Errorf("kafka tail: %w", err))
	}
	o.start.FromBeginning = cfg.s.Kafka.Tail.FromBeginning
	if since := cfg.s.Kafka.Tail.Since; since != "" {
		if o.start.FromBeginning {
			errs = append(errs, errors.New("kafka tail: --from-beginning and --since exclude each other"))
		}
		if t, err := time.Parse(time.RFC3339Nano, since); err == nil {
			o.start.Since = t
		} else if d, err := time.ParseDuration(since); err == nil && d > 0 {
			o.start.Since = now.Add(-d)
		} else {
			errs = append(errs, fmt.Errorf("kafka tail: --since %q is neither a positive duration (10m) nor an RFC 3339 time", since))
		}
	}
	if o.count < 0 {
		errs = append(errs, fmt.Errorf("kafka tail: -n %d is negative", o.count))
	}
	if o.format != "text" && o.format != "json" {
		errs = append(errs, fmt.Errorf("kafka tail: --format %q is not text or json", o.format))
	}
	return o, errors.Join(errs...)
}

func runTail(cmd *cobra.Command, o *tailOptions) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := cmd.OutOrStdout()
	n := 0
	return kafkalog.Tail(ctx, o.addr, o.start, func(r *kafkalog.Record) error {
		var err error
		if o.format == "json" {
			err = writeJSONLine(w, &r.Exchange)
		} else {
			_, err = fmt.Fprintln(w, tailLine(r))
		}
		if err != nil {
			return err
		}
		if n++; o.count > 0 && n >= o.count {
			return kafkalog.ErrStop
		}
		return nil
	})
}

// tailLine is the text form of a tailed event:
//
//	2026-11-21T20:15:03.123456789Z 3/1234 s_ab12 GET https://api.example.com/v1/play?id=3 200
func tailLine(r *kafkalog.Record) string {
	e := &r.Exchange
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d/%d %s %s %s://%s%s", e.Time.UTC().Format(time.RFC3339Nano), r.Partition, r.Offset,
		e.Session, e.Method, e.Scheme, e.Host, e.Path)
	if e.Query != "" {
		b.WriteString("?" + e.Query)
	}
	if e.Status != nil {
		fmt.Fprintf(&b, " %d", *e.Status)
	} else {
		b.WriteString(" -")
	}
	return b.String()
}

func writeJSONLine(w io.Writer, e *schema.Exchange) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
