package profile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"go.yaml.in/yaml/v3"
)

// Load reads the profile in dir: profile.yaml and every table. Errors name
// the file, and the column when a table lacks one or stores it with another
// type; a profile of another major FormatVersion is refused.
func Load(dir string) (*Profile, error) {
	p := &Profile{}
	metaPath := filepath.Join(dir, MetaFile)
	data, err := os.ReadFile(metaPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
				return nil, fmt.Errorf("profile: %s is a file, not a profile directory", dir)
			}
			return nil, fmt.Errorf("profile: %s: no %s (not a profile directory; make one with surge profile build)", dir, MetaFile)
		}
		return nil, fmt.Errorf("profile: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p.Meta); err != nil {
		return nil, fmt.Errorf("profile: %s: %w", metaPath, err)
	}
	if major(p.Meta.Version) != major(FormatVersion) {
		return nil, fmt.Errorf("profile: %s: version %q; this surge reads version %s profiles", metaPath, p.Meta.Version, FormatVersion)
	}
	errs := []error{
		readTable(dir, TableArrivalsSecond, &p.ArrivalsSecond),
		readTable(dir, TableArrivalsMinute, &p.ArrivalsMinute),
		readTable(dir, TableRoutesMinute, &p.RoutesMinute),
		readTable(dir, TableConcurrency, &p.Concurrency),
		readTable(dir, TableSessionLength, &p.SessionLength),
		readTable(dir, TableSessionRequests, &p.SessionRequests),
		readTable(dir, TableThinkTime, &p.ThinkTime),
		readTable(dir, TableTransitions, &p.Transitions),
		readTable(dir, TableMix, &p.Mix),
		readTable(dir, TableStatus, &p.Status),
		readTable(dir, TableMoments, &p.Moments),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("profile: %s: %w", dir, err)
	}
	return p, nil
}

// check returns the first inconsistency between profile.yaml and the
// tables that Show, Plot and Compare rely on.
func (p *Profile) check() error {
	m := &p.Meta
	switch {
	case len(p.ArrivalsMinute) != m.Minutes:
		return fmt.Errorf("%s has %d rows; %s says minutes: %d", TableArrivalsMinute, len(p.ArrivalsMinute), MetaFile, m.Minutes)
	case len(p.ArrivalsSecond) != m.Seconds:
		return fmt.Errorf("%s has %d rows; %s says seconds: %d", TableArrivalsSecond, len(p.ArrivalsSecond), MetaFile, m.Seconds)
	case len(p.Concurrency) != m.Seconds:
		return fmt.Errorf("%s has %d rows; %s says seconds: %d", TableConcurrency, len(p.Concurrency), MetaFile, m.Seconds)
	case m.Seconds > 60*m.Minutes:
		return fmt.Errorf("%s: %d seconds do not fit in %d minutes", MetaFile, m.Seconds, m.Minutes)
	}
	end := m.Start.Add(time.Duration(m.Minutes) * time.Minute)
	for i, r := range p.RoutesMinute {
		if r.Time.Before(m.Start) || !r.Time.Before(end) {
			return fmt.Errorf("%s row %d: time %v outside the profile's minutes [%v, %v)", TableRoutesMinute, i, r.Time, m.Start, end)
		}
	}
	for i, r := range p.Mix {
		if r.Time.Before(m.Start) || !r.Time.Before(end) {
			return fmt.Errorf("%s row %d: time %v outside the profile's minutes [%v, %v)", TableMix, i, r.Time, m.Start, end)
		}
	}
	return nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// readTable reads the table name of dir into *rows, checking first that the
// file has every column of T with T's type.
func readTable[T any](dir, name string, rows *[]T) (err error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("profile: %s: table %s is missing (build the profile again: surge profile build)", dir, name)
	}
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer func() {
		// parquet-go can panic on a corrupt file; a bad file is an error.
		if p := recover(); p != nil {
			err = fmt.Errorf("profile: %s: corrupt Parquet: %v", path, p)
		}
	}()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("profile: %s (%d bytes): not a readable Parquet file: %w", path, st.Size(), err)
	}
	var zero T
	want := parquet.SchemaOf(zero)
	for _, col := range want.Columns() {
		w, _ := want.Lookup(col...)
		h, ok := pf.Schema().Lookup(col...)
		cname := strings.Join(col, ".")
		if !ok {
			return fmt.Errorf("profile: %s: no column %q", path, cname)
		}
		if h.Node.Type().Kind() != w.Node.Type().Kind() {
			return fmt.Errorf("profile: %s: column %q is %v; want %v", path, cname, h.Node.Type(), w.Node.Type())
		}
	}
	got, err := parquet.Read[T](f, st.Size())
	if err != nil {
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	for i := range got {
		utcTimes(&got[i])
	}
	*rows = got
	return nil
}

// utcTimes puts a row's time in UTC (parquet-go returns local times).
func utcTimes(row any) {
	switch r := row.(type) {
	case *ArrivalSecond:
		r.Time = r.Time.UTC()
	case *ArrivalMinute:
		r.Time = r.Time.UTC()
	case *RouteMinute:
		r.Time = r.Time.UTC()
	case *Live:
		r.Time = r.Time.UTC()
	case *Mix:
		r.Time = r.Time.UTC()
	case *Moment:
		r.Time = r.Time.UTC()
	}
}
