package accounts

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
)

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// Export writes the accounts of the pool directory dir to w, streaming (a
// row group at a time):
//
//   - FormatJSONL: one JSON object per account, the json names of Row,
//     history an array of {content, time (RFC 3339), position_ms, device};
//   - FormatCSV: a header row account,user,credential,region,device,history
//     and one row per account, history a JSON array as in jsonl (RFC 4180
//     quoting).
//
// It returns how many accounts it wrote. It stops with ctx's error when ctx
// is done (checked every 256 accounts), having written part of the pool.
func Export(ctx context.Context, dir, format string, w io.Writer) (int64, error) {
	if format != FormatCSV && format != FormatJSONL {
		return 0, fmt.Errorf("accounts: format %q: want %s or %s", format, FormatCSV, FormatJSONL)
	}
	path := filepath.Join(dir, ParquetFile)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("accounts: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return 0, fmt.Errorf("accounts: %s: %w", path, err)
	}
	r := parquet.NewGenericReader[Row](pf)
	defer r.Close()
	bw := bufio.NewWriterSize(w, 1<<16)
	var cw *csv.Writer
	if format == FormatCSV {
		cw = csv.NewWriter(bw)
		cw.Write([]string{"account", "user", "credential", "region", "device", "history"})
	}
	rows := make([]Row, 256)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(rows)
		for _, row := range rows[:k] {
			if err := writeRow(bw, cw, &row); err != nil {
				return n, err
			}
			n++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("accounts: %s: row %d: %w", path, n, err)
		}
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

func writeRow(w *bufio.Writer, cw *csv.Writer, row *Row) error {
	if row.History == nil {
		row.History = []Viewing{}
	}
	if cw == nil {
		js, err := json.Marshal(row)
		if err != nil {
			return err
		}
		w.Write(js)
		return w.WriteByte('\n')
	}
	hist, err := json.Marshal(row.History)
	if err != nil {
		return err
	}
	return cw.Write([]string{row.Account, row.User, row.Credential, row.Region, row.Device, string(hist)})
}
