// Command gen writes the match-night sample: a synthetic but realistic
// recording of 30 minutes of the streaming platform "streamco" on a big
// football night, in every input format surge imports.
//
// From the repository root:
//
//	go run ./testdata/sample/gen -out testdata/sample
//
// The same -seed gives the same bytes, with the same Go release (the gzip
// streams depend on compress/flate). Randomness comes from PCG sources
// seeded by -seed only; nothing reads the clock or ranges over a map.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// options are the command line.
type options struct {
	out   string // directory to write to
	seed  uint64
	stats bool // print counts per minute and per status to stdout
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", ".", "directory to write the sample files to")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed; the same seed gives the same bytes")
	flag.BoolVar(&o.stats, "stats", false, "print request counts per minute, status and endpoint")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	crowd := newCrowd(o.seed)
	w := simulate(crowd)
	pickGor(o.seed, crowd, w.xs)
	logged := w.logged()
	views := w.sortedViews()
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"match-night.format", func(f io.Writer) error { _, err := io.WriteString(f, logFormat); return err }},
		{"match-night.log.gz", func(f io.Writer) error { return writeLog(f, logged, true) }},
		{"match-night-combined.log.gz", func(f io.Writer) error { return writeLog(f, logged, false) }},
		{"match-night.har", func(f io.Writer) error { return writeHAR(f, crowd, w.xs) }},
		{"match-night.gor", func(f io.Writer) error { return writeGor(f, w.xs, o.seed) }},
		{"views.csv.gz", func(f io.Writer) error { return gzipped(f, func(w io.Writer) error { return writeViewsCSV(w, views) }) }},
		{"views.jsonl", func(f io.Writer) error { return writeViewsJSONL(f, views) }},
		{"match-night-ws.har.gz", func(f io.Writer) error {
			return gzipped(f, func(zw io.Writer) error { return writeWSHAR(zw, o.seed, w.xs) })
		}},
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(o.out, f.name), f.write); err != nil {
			return err
		}
	}
	if o.stats {
		return printStats(os.Stdout, crowd, logged, views)
	}
	return nil
}

// writeFile writes a file through a buffer with write.
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := write(bw); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

// gzipped writes what write writes, gzip-compressed with newGzip.
func gzipped(f io.Writer, write func(io.Writer) error) error {
	zw, err := newGzip(f)
	if err != nil {
		return err
	}
	if err := write(zw); err != nil {
		return err
	}
	return zw.Close()
}
