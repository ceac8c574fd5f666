package profile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/surge-replay/surge/eventlog"
	"go.yaml.in/yaml/v3"
)

// Write writes p as a profile directory at dir. Everything is written into
// a hidden temporary directory beside dir and renamed into place when
// complete; an existing profile at dir is replaced (a directory that is not
// a profile is refused), so dir never holds a half-written profile.
func Write(dir string, p *Profile) (err error) {
	dir = filepath.Clean(dir)
	if st, serr := os.Stat(dir); serr == nil {
		if !st.IsDir() {
			return fmt.Errorf("profile: %s exists and is a file", dir)
		}
		if _, merr := os.Stat(filepath.Join(dir, MetaFile)); merr != nil {
			if ents, _ := os.ReadDir(dir); len(ents) > 0 {
				return fmt.Errorf("profile: %s exists and is not a profile directory (no %s); not replacing it", dir, MetaFile)
			}
		}
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o777); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	meta := p.Meta
	meta.Version = FormatVersion
	meta.Tables = Tables
	y, err := yaml.Marshal(&meta)
	if err != nil {
		return fmt.Errorf("profile: %s: %w", MetaFile, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, MetaFile), y, 0o666); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	errs := []error{
		writeTable(tmp, TableArrivalsSecond, p.ArrivalsSecond),
		writeTable(tmp, TableArrivalsMinute, p.ArrivalsMinute),
		writeTable(tmp, TableRoutesMinute, p.RoutesMinute),
		writeTable(tmp, TableConcurrency, p.Concurrency),
		writeTable(tmp, TableSessionLength, p.SessionLength),
		writeTable(tmp, TableSessionRequests, p.SessionRequests),
		writeTable(tmp, TableThinkTime, p.ThinkTime),
		writeTable(tmp, TableTransitions, p.Transitions),
		writeTable(tmp, TableMix, p.Mix),
		writeTable(tmp, TableStatus, p.Status),
		writeTable(tmp, TableMoments, p.Moments),
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.Chmod(tmp, eventlog.DirPerm()); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	// Replace: move an old profile aside, put the new one in place, then
	// remove the old one.
	old := ""
	if _, serr := os.Stat(dir); serr == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("profile: %w", err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

func writeTable[T any](dir, name string, rows []T) error {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	w := parquet.NewGenericWriter[T](f, parquet.Compression(&zstd.Codec{}))
	if _, err := w.Write(rows); err != nil {
		f.Close()
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		f.Close()
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	return nil
}
