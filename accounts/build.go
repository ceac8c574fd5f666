package accounts

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// BuildConfig configures Build. Views, RatioMax, Out and one of
// Credentials and Minter are required; other zero values work.
type BuildConfig struct {
	// Views are viewing-history captures (Parquet files or hive
	// directories of schema.ViewingEvent, as surge import views writes).
	Views []string
	// RatioMax is the largest replay ratio the pool serves: each recorded
	// user gets ⌈RatioMax⌉ accounts, so that clones 0..⌈R⌉−1 of a user each
	// sign in as an account of their own. Must be > 0.
	RatioMax float64
	// Credentials, when set, gives the accounts in order (staging accounts
	// that exist); CredentialsName names it in Meta. It must hold at least
	// as many rows as the pool has accounts.
	Credentials     *CredentialsReader
	CredentialsName string
	// Minter mints names and tokens when Credentials is nil.
	Minter *Minter
	// Epoch is the time the source's last event is shifted to; every
	// history time moves by the same amount. Zero means no shift.
	Epoch time.Time
	// Out is the pool directory. It must not exist unless Force.
	Out   string
	Force bool
	// Buckets is how many groups the events are sorted in (a power of two
	// up to 1024). Zero means one per 256k events.
	Buckets int
	// RowGroupRows is how many accounts go in one Parquet row group. Zero
	// means 8192.
	RowGroupRows int
}

// Build writes a pool from viewing histories in memory bounded by one
// bucket of events (Buckets), not by the capture's size: see the file
// comment of bucket.go. The pool appears complete at Out or not at all
// (built in a temporary directory beside it, then renamed).
func Build(ctx context.Context, cfg BuildConfig) (*Meta, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.Out); err == nil && !cfg.Force {
		return nil, fmt.Errorf("accounts: %s exists (give --force to replace it)", cfg.Out)
	}
	parent := filepath.Dir(filepath.Clean(cfg.Out))
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(cfg.Out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, eventlog.DirPerm()); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	b := &builder{cfg: &cfg, dir: tmp, meta: Meta{Version: PoolVersion, RatioMax: cfg.RatioMax,
		PerUser: int(math.Ceil(cfg.RatioMax)), Sources: cfg.Views}}
	if err := b.partition(ctx); err != nil {
		return nil, err
	}
	if err := b.writePool(ctx); err != nil {
		return nil, err
	}
	return &b.meta, publish(tmp, cfg.Out)
}

func (c *BuildConfig) validate() error {
	var errs []error
	if len(c.Views) == 0 {
		errs = append(errs, errors.New("accounts: no viewing histories (--views)"))
	}
	if !(c.RatioMax > 0) || c.RatioMax > 1e6 {
		errs = append(errs, fmt.Errorf("accounts: ratio-max %g: want a number above 0 (the largest replay ratio)", c.RatioMax))
	}
	if c.Credentials == nil && c.Minter == nil {
		errs = append(errs, errors.New("accounts: no credentials: give --credentials CSV or --token-template"))
	}
	if c.Out == "" {
		errs = append(errs, errors.New("accounts: no output directory (-o)"))
	}
	if c.Buckets < 0 || c.Buckets > maxBuckets || c.Buckets&(c.Buckets-1) != 0 {
		errs = append(errs, fmt.Errorf("accounts: buckets %d: want a power of two up to %d", c.Buckets, maxBuckets))
	}
	return errors.Join(errs...)
}

// publish renames the built pool tmp to out, replacing an old one.
func publish(tmp, out string) error {
	if _, err := os.Stat(out); err == nil {
		old := tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("accounts: replace %s: %w", out, err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	return nil
}

const (
	maxBuckets      = 1024
	eventsPerBucket = 256 << 10
)

type builder struct {
	cfg     *BuildConfig
	dir     string
	buckets int
	counts  []int64 // events per bucket
	meta    Meta
}

// partition is pass one: every event with a user to its bucket file.
func (b *builder) partition(ctx context.Context) error {
	r, err := eventlog.Open[schema.ViewingEvent](b.cfg.Views, eventlog.Range{})
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	defer r.Close()
	var total int64
	for _, fi := range r.Files() {
		total += fi.Events
	}
	b.buckets = b.cfg.Buckets
	if b.buckets == 0 {
		b.buckets = min(maxBuckets, 1<<bits.Len64(uint64(total/eventsPerBucket)))
	}
	b.meta.Buckets = b.buckets
	shift := 64 - bits.TrailingZeros(uint(b.buckets))
	ws := make([]*bucketWriter, b.buckets)
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.f.Close()
			}
		}
	}()
	for i := range ws {
		if ws[i], err = newBucketWriter(b.dir, i); err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
	}
	var v view
	for n := 0; ; n++ {
		if n%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		b.meta.Events++
		if b.meta.SourceFirst.IsZero() || ev.Time.Before(b.meta.SourceFirst) {
			b.meta.SourceFirst = ev.Time
		}
		if ev.Time.After(b.meta.SourceLast) {
			b.meta.SourceLast = ev.Time
		}
		if ev.User == "" {
			b.meta.SkippedNoUser++
			continue
		}
		v = view{hash: UserHash(ev.User), time: ev.Time.UnixNano(), position: ev.PositionMS, user: ev.User,
			session: ev.Session, content: ev.Content, device: ev.Device, region: ev.Region}
		i := 0
		if shift < 64 {
			i = int(v.hash >> shift)
		}
		if err := ws[i].put(&v); err != nil {
			return fmt.Errorf("accounts: bucket: %w", err)
		}
	}
	b.counts = make([]int64, b.buckets)
	for i, w := range ws {
		b.counts[i] = w.n
		err := w.close()
		ws[i] = nil
		if err != nil {
			return fmt.Errorf("accounts: bucket: %w", err)
		}
	}
	if b.meta.Events == 0 {
		return fmt.Errorf("accounts: %v: no viewing events", b.cfg.Views)
	}
	b.setEpoch()
	return nil
}

// setEpoch fixes the shift of history times: the source's last event
// lands on the configured epoch (no shift without one).
func (b *builder) setEpoch() {
	if !b.cfg.Epoch.IsZero() {
		b.meta.Epoch = b.cfg.Epoch.UTC()
		b.meta.ShiftNS = b.cfg.Epoch.Sub(b.meta.SourceLast).Nanoseconds()
	} else {
		b.meta.Epoch = b.meta.SourceLast
	}
}

// writePool is pass two: bucket by bucket, users in hash order, their
// accounts to the Parquet file and the index.
func (b *builder) writePool(ctx context.Context) error {
	f, err := os.Create(filepath.Join(b.dir, ParquetFile))
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	defer f.Close()
	pw := parquet.NewGenericWriter[Row](f,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.DataPageVersion(1),
		parquet.MaxRowsPerRowGroup(int64(cmp.Or(b.cfg.RowGroupRows, 8192))),
		parquet.KeyValueMetadata("surge.pool.version", fmt.Sprint(PoolVersion)),
		parquet.CreatedBy("surge", schema.Version, ""))
	iw, err := NewIndexWriter(filepath.Join(b.dir, IndexFile))
	if err != nil {
		return err
	}
	defer iw.Abort()
	out := &poolOut{b: b, pw: pw, iw: iw}
	if c := b.cfg.Credentials; c != nil {
		out.uniq = newUniqueSpill(b.dir, c.Name())
		defer out.uniq.remove()
	}
	var views []view
	for i := range b.buckets {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := fmt.Sprintf("%s/bucket-%04d", b.dir, i)
		views, err = readBucket(path, views[:0])
		if err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		os.Remove(path)
		if err := out.bucket(views); err != nil {
			return err
		}
		clear(views) // drop the arena's strings
	}
	if err := out.credentialErrors(ctx); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("accounts: %s: %w", ParquetFile, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("accounts: %s: %w", ParquetFile, err)
	}
	if err := iw.Close(); err != nil {
		return err
	}
	b.meta.Accounts = iw.Accounts()
	b.meta.Collisions = iw.Collisions
	b.meta.Credentials = b.cfg.CredentialsName
	if b.cfg.Credentials == nil {
		b.meta.Credentials = "template:" + b.cfg.Minter.Token.String()
	}
	js, _ := json.MarshalIndent(b.meta, "", "  ")
	return os.WriteFile(filepath.Join(b.dir, MetaFile), append(js, '\n'), 0o644)
}
