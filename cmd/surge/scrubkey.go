package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/surge-replay/surge/capture"
)

// scrubKeyFile is where surge keeps the machine's own scrub key, under
// os.UserConfigDir() ($XDG_CONFIG_HOME or ~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows).
const scrubKeyFile = "surge/scrub.key"

// machineScrubKey returns the key in the machine's key file, creating the
// file (a random 32-byte key as 64 hex digits, mode 0600, its directory
// 0700) when there is none; created says it did. The key is the file's text
// without surrounding white space, so SURGE_SCRUB_KEY=$(cat FILE) is the
// same key.
//
// Two imports starting at once both end with the same key: the file appears
// complete or not at all (written aside, then hard-linked into place, which
// fails with EEXIST like O_EXCL when another import won), and the loser
// reads the winner's file.
func machineScrubKey() (key []byte, path string, created bool, err error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return nil, "", false, fmt.Errorf("%w (and no config directory for a key of this machine: %v)", capture.ErrNoKey, err)
	}
	path = filepath.Join(dir, scrubKeyFile)
	if key, err := readScrubKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, path, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, path, false, fmt.Errorf("scrub key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, path, false, fmt.Errorf("scrub key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".scrub.key-*")
	if err != nil {
		return nil, path, false, fmt.Errorf("scrub key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(raw) + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return nil, path, false, fmt.Errorf("scrub key %s: %w", path, err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		created = true
	case errors.Is(err, fs.ErrExist):
		// Another import made it first: use its key.
	default:
		return nil, path, false, fmt.Errorf("scrub key %s: %w", path, err)
	}
	key, err = readScrubKey(path)
	return key, path, created, err
}

// readScrubKey reads a key file: 64 hex digits (what surge writes).
func readScrubKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scrub key: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if _, herr := hex.DecodeString(k); herr != nil || len(k) != 64 {
		return nil, fmt.Errorf("scrub key file %s: want 64 hex digits (a key surge made), found %d bytes; restore it from your team's copy, or remove it to make a new key (ids will then differ from earlier imports)", path, len(b))
	}
	return []byte(k), nil
}
