package profile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// The capture columns Build reads, in the order of the record batches'
// columns. Dictionary columns are read as Arrow dictionaries, so a batch's
// labels are mapped once per dictionary entry, not once per row.
var buildColumns = []struct {
	name string
	dict bool
}{
	{"time", false}, {"session", false}, {"method", true}, {"host", true}, {"path", false},
	{"status", false}, {"region", true}, {"device", true}, {"protocol", true},
}

const (
	colTime = iota
	colSession
	colMethod
	colHost
	colPath
	colStatus
	colRegion
	colDevice
	colProtocol
)

// Build builds the profile of the capture in paths (exchange files or
// hive directories of them, as eventlog.Files expands them). Files are
// read in order of their first event, each with Arrow's Parquet reader as
// record batches of the columns above; nothing holds an event. Errors name
// the file, and the column when one is missing or of another type.
func Build(ctx context.Context, paths []string, cfg Config) (*Profile, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	files, err := eventlog.Files(paths, eventlog.Range{})
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	infos := make([]eventlog.FileInfo, 0, len(files))
	for _, f := range files {
		fi, err := eventlog.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		if fi.Kind != schema.KindExchange {
			return nil, fmt.Errorf("profile: %s holds %s events; a profile is built from exchanges (HTTP requests)", f, fi.Kind)
		}
		if fi.Events > 0 {
			infos = append(infos, fi)
		}
	}
	if len(infos) == 0 {
		return nil, fmt.Errorf("profile: %v: no requests to profile", paths)
	}
	slices.SortStableFunc(infos, func(a, b eventlog.FileInfo) int { return a.First.Compare(b.First) })
	first, last := infos[0].First, infos[0].Last
	for _, fi := range infos[1:] {
		if fi.Last.After(last) {
			last = fi.Last
		}
	}
	b := newBuilder(&cfg, first.Truncate(time.Minute), last)
	for _, fi := range infos {
		if err := b.readFile(ctx, fi.Path); err != nil {
			return nil, err
		}
	}
	p := b.finish()
	p.Meta.Capture = paths
	p.Meta.Source = infos[0].Source
	for _, fi := range infos[1:] {
		if fi.Source != p.Meta.Source {
			p.Meta.Source = "mixed"
		}
	}
	p.Meta.Resolution.Capture = infos[0].Metadata[schema.MetaResolution]
	p.Meta.Built = cfg.now()
	return p, nil
}

// readFile folds the file at path into b, one record batch at a time.
func (b *builder) readFile(ctx context.Context, path string) (err error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return fmt.Errorf("profile: %s: not a readable Parquet file: %w", path, err)
	}
	defer pf.Close()
	defer func() {
		// A corrupt page can make the decoder panic; a bad file is an error.
		if p := recover(); p != nil {
			err = fmt.Errorf("profile: %s: corrupt Parquet data: %v", path, p)
		}
	}()
	props := pqarrow.ArrowReadProperties{BatchSize: int64(b.cfg.batchSize())}
	sc := pf.MetaData().Schema
	idx := make([]int, len(buildColumns))
	for i, c := range buildColumns {
		idx[i] = sc.ColumnIndexByName(c.name)
		if idx[i] < 0 {
			return fmt.Errorf("profile: %s: no column %q", path, c.name)
		}
		if c.dict {
			props.SetReadDict(idx[i], true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	rr, err := fr.GetRecordReader(ctx, idx, nil)
	if err != nil {
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	defer rr.Release()
	if err := checkTypes(path, rr.Schema()); err != nil {
		return err
	}
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.batch(rr.RecordBatch()); err != nil {
			return fmt.Errorf("profile: %s: %w", path, err)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	return ctx.Err()
}

// checkTypes checks the batch schema has the types batch expects.
func checkTypes(path string, s *arrow.Schema) error {
	for i, c := range buildColumns {
		t := s.Field(i).Type
		ok := false
		switch i {
		case colTime:
			_, ok = t.(*arrow.TimestampType)
		case colStatus:
			ok = t.ID() == arrow.INT32
		default:
			if d, isDict := t.(*arrow.DictionaryType); isDict {
				t = d.ValueType
			}
			ok = t.ID() == arrow.STRING
		}
		if !ok {
			return fmt.Errorf("profile: %s: column %q is %v; want the type of schema.ExchangeArrow", path, c.name, s.Field(i).Type)
		}
	}
	return nil
}

// labelColumn maps a string column of a batch (plain or dictionary) to
// label ids of in, reusing out.
func labelColumn(col arrow.Array, in *interner, out []int32) ([]int32, error) {
	n := col.Len()
	out = slices.Grow(out[:0], n)[:n]
	switch a := col.(type) {
	case *array.Dictionary:
		dict, ok := a.Dictionary().(*array.String)
		if !ok {
			return nil, fmt.Errorf("dictionary of %v", a.Dictionary().DataType())
		}
		ids := make([]int32, dict.Len())
		for i := range ids {
			ids[i] = in.id(dict.Value(i))
		}
		switch x := a.Indices().(type) {
		case *array.Int32:
			for i, v := range x.Int32Values() {
				out[i] = ids[v]
			}
		default:
			for i := range n {
				out[i] = ids[a.GetValueIndex(i)]
			}
		}
	case *array.String:
		for i := range n {
			out[i] = in.id(a.Value(i))
		}
	default:
		return nil, fmt.Errorf("label column of type %v", col.DataType())
	}
	return out, nil
}
