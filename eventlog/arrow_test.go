package eventlog

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/surge-replay/surge/schema"
)

// TestArrowSchemaMatchesParquet reads files written by Writer with Arrow's own
// Parquet implementation and checks the schema it sees is schema's Arrow
// schema, field by field, and that every row is there.
func TestArrowSchemaMatchesParquet(t *testing.T) {
	dir := t.TempDir()
	paths := map[schema.Kind]string{
		schema.KindExchange: filepath.Join(dir, "x.parquet"),
		schema.KindFrame:    filepath.Join(dir, "f.parquet"),
		schema.KindView:     filepath.Join(dir, "v.parquet"),
		schema.KindResult:   filepath.Join(dir, "r.parquet"),
	}
	writeFile(t, paths[schema.KindExchange], WriterConfig{}, exchanges(300))
	fw, _ := Create[schema.Frame](paths[schema.KindFrame], WriterConfig{})
	fw.Write(schema.Frame{Time: t0, Session: "s", Conn: "c", Direction: schema.FromClient, Opcode: schema.OpText, Payload: []byte("hi"), PayloadSize: 2, Source: "test"})
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	vw, _ := Create[schema.ViewingEvent](paths[schema.KindView], WriterConfig{})
	vw.Write(schema.ViewingEvent{Time: t0, User: "u", Content: "match", Type: schema.ViewStart, Source: "test"})
	if err := vw.Close(); err != nil {
		t.Fatal(err)
	}
	rw, _ := Create[schema.Result](paths[schema.KindResult], WriterConfig{})
	sent := t0.Add(time.Millisecond)
	rw.Write(schema.Result{Intended: t0, Sent: &sent, Status: 200, Session: "s", Method: "GET", Route: "GET /"}, schema.Result{Intended: t0, Error: schema.DroppedCap})
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	wantRows := map[schema.Kind]int64{schema.KindExchange: 300, schema.KindFrame: 1, schema.KindView: 1, schema.KindResult: 2}

	for kind, path := range paths {
		t.Run(string(kind), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pf, err := file.NewParquetReader(f)
			if err != nil {
				t.Fatal(err)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fr.Schema()
			if err != nil {
				t.Fatal(err)
			}
			want := schema.ArrowOf(kind)
			if len(got.Fields()) != len(want.Fields()) {
				t.Fatalf("Arrow sees %d fields; want %d:\n%v", len(got.Fields()), len(want.Fields()), got)
			}
			for i, wf := range want.Fields() {
				gf := got.Field(i)
				if gf.Name != wf.Name || gf.Nullable != wf.Nullable || !sameType(gf.Type, wf.Type) {
					t.Errorf("field %d = %s %v nullable=%v; want %s %v nullable=%v", i, gf.Name, gf.Type, gf.Nullable, wf.Name, wf.Type, wf.Nullable)
				}
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Release()
			if tbl.NumRows() != wantRows[kind] {
				t.Errorf("Arrow read %d rows; want %d", tbl.NumRows(), wantRows[kind])
			}
		})
	}
}

// sameType compares Arrow types ignoring the names Parquet gives list
// elements and the nullability of struct children, which are encoding
// details.
func sameType(a, b arrow.DataType) bool {
	la, okA := a.(*arrow.ListType)
	lb, okB := b.(*arrow.ListType)
	if okA && okB {
		return sameType(la.Elem(), lb.Elem())
	}
	sa, okA := a.(*arrow.StructType)
	sb, okB := b.(*arrow.StructType)
	if okA && okB {
		if sa.NumFields() != sb.NumFields() {
			return false
		}
		for i := range sa.Fields() {
			if sa.Field(i).Name != sb.Field(i).Name || !sameType(sa.Field(i).Type, sb.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return arrow.TypeEqual(a, b)
}
