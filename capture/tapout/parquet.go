package tapout

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// FramesDir is the directory, inside a Parquet output, of the WebSocket
// frames: its leading underscore keeps exchange readers (eventlog.Files,
// surge replay DIR) out of it; read it as its own dataset, DIR/_frames.
const FramesDir = "_frames"

// DefaultRetry is how long an output refuses events after a failure.
const DefaultRetry = time.Second

// errBackingOff is returned while an output waits before trying again.
var errBackingOff = errors.New("tapout: output failed recently; dropping until the retry")

// ParquetConfig configures a Parquet output. The zero value works.
type ParquetConfig struct {
	// MaxAge and MaxBytes roll the parts (eventlog.RollingConfig); zero
	// means eventlog.DefaultRollAge and DefaultRollBytes.
	MaxAge   time.Duration
	MaxBytes int64
	// RowGroupRows is the events per row group; zero means 16384.
	RowGroupRows int
	// Retry is how long writes are refused after a failure; zero means
	// DefaultRetry.
	Retry time.Duration
}

// Parquet writes exchanges into DIR and frames into DIR/_frames, both hive
// layout, rolled by time and size. The capture loss (the tap's, plus that
// of earlier runs into the same directory) is written into every part's
// metadata and into DIR/_surge.json at every flush.
type Parquet struct {
	dir       string
	cfg       ParquetConfig
	ex        *eventlog.RollingWriter[schema.Exchange, *schema.Exchange]
	fr        *eventlog.RollingWriter[schema.Frame, *schema.Frame]
	base      capture.TapLoss // of earlier runs
	lostSeen  capture.TapLost
	failUntil time.Time
	created   bool // OpenParquet made dir
	// Removed are the partial files of a crashed run removed at open.
	Removed []string
	// Recovered is what was put back from a crashed run's write-ahead
	// segments at open: exchanges and frames.
	Recovered, RecoveredFrames eventlog.Recovery
}

// OpenParquet opens (or creates) a capture directory, recovering what a
// crashed run left in write-ahead segments and removing its half-written
// parts.
func OpenParquet(dir string, cfg ParquetConfig) (*Parquet, error) {
	_, err := os.Stat(dir)
	created := os.IsNotExist(err)
	rc := eventlog.RollingConfig{
		WriterConfig: eventlog.WriterConfig{Source: capture.TapSource, RowGroupRows: cfg.RowGroupRows},
		MaxAge:       cfg.MaxAge, MaxBytes: cfg.MaxBytes,
	}
	if rc.RowGroupRows <= 0 {
		rc.RowGroupRows = 16 << 10
	}
	rc.Size = func(e any) int { return ExchangeSize(e.(*schema.Exchange)) }
	ex, removed, err := eventlog.OpenRolling[schema.Exchange](dir, rc)
	if err != nil {
		return nil, err
	}
	rc.Size = func(e any) int { return 64 + len(e.(*schema.Frame).Payload) }
	fr, removedFr, err := eventlog.OpenRolling[schema.Frame](filepath.Join(dir, FramesDir), rc)
	if err != nil {
		return nil, err
	}
	p := &Parquet{dir: dir, cfg: cfg, ex: ex, fr: fr, created: created, Removed: append(removed, removedFr...),
		Recovered: ex.Recovered(), RecoveredFrames: fr.Recovered()}
	if meta, err := eventlog.ReadDatasetMeta(dir); err == nil && meta[schema.MetaCaptureLoss] != "" {
		if err := json.Unmarshal([]byte(meta[schema.MetaCaptureLoss]), &p.base); err != nil {
			return nil, fmt.Errorf("tapout: %s: %s: %w", filepath.Join(dir, eventlog.DatasetMeta), schema.MetaCaptureLoss, err)
		}
	}
	return p, nil
}

// ExchangeSize estimates an exchange's bytes in a part, before compression.
func ExchangeSize(e *schema.Exchange) int {
	n := 96 + len(e.Session) + len(e.User) + len(e.Host) + len(e.Path) + len(e.Query) + len(e.Body)
	for _, h := range e.Headers {
		n += len(h.Name) + len(h.Value)
	}
	return n
}

func (p *Parquet) retry() time.Duration {
	if p.cfg.Retry <= 0 {
		return DefaultRetry
	}
	return p.cfg.Retry
}

func (p *Parquet) check(err error) error {
	if err != nil {
		p.failUntil = time.Now().Add(p.retry())
	}
	return err
}

// AcceptsLate is part of capture.TapLateOutput: parts are sorted, so a
// WebSocket upgrade can be written when its connection closes.
func (p *Parquet) AcceptsLate() bool { return true }

// AddExchange is part of capture.TapOutput.
func (p *Parquet) AddExchange(e *schema.Exchange) error {
	if time.Now().Before(p.failUntil) {
		return errBackingOff
	}
	return p.check(p.ex.Add(e))
}

// AddFrame is part of capture.TapOutput.
func (p *Parquet) AddFrame(f *schema.Frame) error {
	if time.Now().Before(p.failUntil) {
		return errBackingOff
	}
	return p.check(p.fr.Add(f))
}

// Flush records the loss, rolls the parts when due and syncs the open
// parts' write-ahead segments: what was added before a Flush survives the
// process being killed (the next OpenParquet recovers it).
func (p *Parquet) Flush(l capture.TapLoss) (capture.TapLost, error) {
	p.setLoss(l)
	var errs []error
	errs = append(errs, p.check(p.ex.Sync()), p.check(p.fr.Sync()))
	now := time.Now()
	if p.ex.Due(now) {
		errs = append(errs, p.check(p.ex.Roll()))
	}
	if p.fr.Due(now) {
		errs = append(errs, p.check(p.fr.Roll()))
	}
	errs = append(errs, p.ex.WriteMeta())
	lost := capture.TapLost{Exchanges: p.ex.Lost() - p.lostSeen.Exchanges, Frames: p.fr.Lost() - p.lostSeen.Frames}
	p.lostSeen = capture.TapLost{Exchanges: p.ex.Lost(), Frames: p.fr.Lost()}
	return lost, errors.Join(errs...)
}

func (p *Parquet) setLoss(l capture.TapLoss) {
	total := p.base.Plus(l)
	b, _ := json.Marshal(total)
	p.ex.SetMetadata(schema.MetaCaptureLoss, string(b))
	p.fr.SetMetadata(schema.MetaCaptureLoss, string(b))
}

// Close puts every open part in place and writes the final loss.
func (p *Parquet) Close(l capture.TapLoss) error {
	p.setLoss(l)
	return errors.Join(p.ex.Close(), p.fr.Close())
}

// Abort closes an output that recorded nothing (a start that failed after
// it was opened) without writing metadata: no _surge.json is left, and the
// directories OpenParquet made are removed when empty. What a crashed run
// left and OpenParquet recovered stays.
func (p *Parquet) Abort() {
	p.ex.Abort()
	p.fr.Abort()
	if p.created {
		os.Remove(filepath.Join(p.dir, FramesDir))
		os.Remove(p.dir)
	}
}
