package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/surge-replay/surge/eventlog"
)

// checkOutputs checks, before any work, that every output path (files or
// hive directories; "" and kafka:// addresses are skipped) can be written:
// its parent directory is created and must accept a new file, and an
// existing output (a file, or a directory that is not empty) is refused
// unless force, with the same rule for files and directories. It returns
// every problem as one usage error.
func checkOutputs(force bool, outputs map[string]string) error {
	var errs []error
	for flag, path := range outputs {
		if path == "" || strings.Contains(path, "://") {
			continue
		}
		if err := checkOutput(force, path); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", flag, path, err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &exitError{exitUsage, errors.Join(errs...)}
}

// checkFileOutputs is checkOutputs for outputs that are one file (a JSON
// summary, an HTML page, a JUnit file): an existing directory is refused
// too, before any work, since the finished file could not be renamed onto
// it (an empty directory passes checkOutputs: it can be a hive dataset).
func checkFileOutputs(force bool, outputs map[string]string) error {
	var errs []error
	for flag, path := range outputs {
		if path == "" || strings.Contains(path, "://") {
			continue
		}
		if err := notDir(path); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", flag, path, err))
		}
	}
	if len(errs) > 0 {
		return &exitError{exitUsage, errors.Join(errs...)}
	}
	return checkOutputs(force, outputs)
}

// checkFileOutput is checkOutput for an output that is one file: an existing
// directory is refused whatever force says.
func checkFileOutput(force bool, path string) error {
	if err := notDir(path); err != nil {
		return err
	}
	return checkOutput(force, path)
}

// notDir refuses a path that is an existing directory.
func notDir(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory; want a file name")
	}
	return nil
}

func checkOutput(force bool, path string) error {
	if fi, err := os.Stat(path); err == nil {
		exists := !fi.IsDir()
		if fi.IsDir() {
			entries, err := os.ReadDir(path)
			if err != nil {
				return err
			}
			exists = len(entries) > 0
		}
		if exists && !force {
			return errors.New("exists; pass --force to replace it (it is replaced only when the new one is complete)")
		}
	}
	dir := filepath.Dir(filepath.Clean(path))
	if err := os.MkdirAll(dir, eventlog.DirPerm()); err != nil {
		return err
	}
	probe, err := os.CreateTemp(dir, ".surge-probe-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}
