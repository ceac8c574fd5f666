package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

func newKafkaArchiveCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "archive --brokers HOST:PORT[,...] --topic TOPIC --out DIR [--group G]",
		Short: "Archive a capture topic to hourly Parquet files, exactly once",
		Long: `Archive consumes a capture topic as a member of a consumer group (default
group surge-archive-TOPIC; run several archivers with one group to share the
partitions) and writes hive-style hourly Parquet under DIR
(dt=YYYY-MM-DD/hour=HH/TOPIC-pP-oFROM-TO-IofK.parquet), readable by
surge replay --from DIR, surge inspect DIR, DuckDB and pyarrow.

Each partition's records are written at --flush-events, --flush-bytes or
--flush-interval after its first unwritten record, whichever comes first; the
files and their directories are fsynced and renamed into place before the
offset is committed. The file names record the archived offsets, so after a
crash (even between rename and commit) the restarted archiver resumes after
them: nothing is lost or written twice. SIGTERM or SIGINT writes what was
consumed, commits it and exits 0.

A record that does not decode is skipped, counted and reported with its
topic, partition and offset; --strict stops there instead (after archiving the
records before it) and exits 1. docs/ARCHIVE.md has the details.`,
		Example: `  surge kafka archive --brokers 127.0.0.1:9092 --topic captures --out /data/captures
  surge kafka archive --brokers k1:9092,k2:9092 --topic captures --out archive/ --flush-interval 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := kafkaArchiveConfig(cfg)
			if err != nil {
				return &exitError{2, err}
			}
			return runKafkaArchive(cmd, c)
		},
	}
	f := cmd.Flags()
	f.StringSlice("brokers", nil, "bootstrap brokers, HOST:PORT[,...] (required)")
	f.String("topic", "", "topic to archive (required)")
	f.String("out", "", "archive directory (required; created when missing, files already there are kept)")
	f.String("group", "", "consumer group id (default surge-archive-TOPIC)")
	f.Duration("flush-interval", kafkalog.DefaultFlushInterval, "longest a consumed record waits before it is written and committed")
	f.Int("flush-events", kafkalog.DefaultFlushEvents, "events per partition that make a flush")
	f.Int64("flush-bytes", kafkalog.DefaultFlushBytes, "record bytes per partition that make a flush")
	f.Int("row-group-rows", kafkalog.DefaultArchiveRowGroupRows, "events per Parquet row group")
	f.Bool("strict", false, "stop at the first record that does not decode instead of skipping it")
	cfg.bindAll(cmd, "kafka.archive")
	return cmd
}

// kafkaArchiveConfig reads the options, reporting every missing one.
func kafkaArchiveConfig(cfg *config) (kafkalog.ArchiveConfig, error) {
	c := kafkalog.ArchiveConfig{
		Topic:         cfg.s.Kafka.Archive.Topic,
		Dir:           cfg.s.Kafka.Archive.Out,
		Group:         cfg.s.Kafka.Archive.Group,
		FlushInterval: cfg.s.Kafka.Archive.FlushInterval,
		FlushEvents:   cfg.s.Kafka.Archive.FlushEvents,
		FlushBytes:    cfg.s.Kafka.Archive.FlushBytes,
		RowGroupRows:  cfg.s.Kafka.Archive.RowGroupRows,
		Strict:        cfg.s.Kafka.Archive.Strict,
	}
	for _, b := range cfg.s.Kafka.Archive.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			c.Brokers = append(c.Brokers, b)
		}
	}
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("--brokers is required"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("--topic is required"))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("--out is required"))
	}
	if c.FlushInterval < 0 || c.FlushEvents < 0 || c.FlushBytes < 0 {
		errs = append(errs, errors.New("--flush-interval, --flush-events and --flush-bytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("kafka archive: %w", err)
	}
	return c, nil
}

func runKafkaArchive(cmd *cobra.Command, c kafkalog.ArchiveConfig) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stderr := cmd.ErrOrStderr()
	c.Logf = func(format string, args ...any) {
		fmt.Fprintf(stderr, "surge: "+format+"\n", args...)
	}
	c.OnBadRecord = func(e *kafkalog.RecordError) {
		fmt.Fprintf(stderr, "surge: kafka archive: bad record: %v (skipped)\n", e)
	}
	if c.Strict {
		c.OnBadRecord = nil // the error is returned
	}
	a, err := kafkalog.NewArchiver(c)
	if err != nil {
		return &exitError{2, err}
	}
	start := time.Now()
	err = a.Run(ctx)
	s := a.Stats()
	secs := time.Since(start).Seconds()
	fmt.Fprintf(cmd.OutOrStdout(), "archived %d events in %d files (%d flushes, %d commits) to %s in %.1fs; %d bad records, %d re-read records skipped\n",
		s.Events, s.Files, s.Flushes, s.Commits, c.Dir, secs, s.BadRecords, s.Skipped)
	return err
}
