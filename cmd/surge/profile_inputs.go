package main

import (
	"fmt"
	"path/filepath"
)

// repeatedCapture returns an error naming a capture given twice (the same
// path, however written: ./a.parquet and a.parquet): its events would be
// read twice (a profile would count each request twice but each session
// once; a pool would hold each viewing twice), wrong without a sign of it.
// what names the flag or argument.
func repeatedCapture(what string, paths []string) error {
	seen := map[string]string{}
	for _, p := range paths {
		key := filepath.Clean(p)
		if abs, err := filepath.Abs(p); err == nil {
			key = abs
		}
		if first, ok := seen[key]; ok {
			return fmt.Errorf("%s: %s and %s are the same capture: give each once", what, first, p)
		}
		seen[key] = p
	}
	return nil
}
