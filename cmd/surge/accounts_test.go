package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccountsBuildExportReplay: the sample's viewing histories become a
// pool (3 accounts per user, minted tokens: headroom over the 2x replay), export writes every account,
// and a 2x replay of the sample's requests signs its virtual users in as
// accounts of their recorded users (the sample's users are the same people
// in both files, hashed with one key), reported in the summary JSON.
func TestAccountsBuildExportReplay(t *testing.T) {
	capture := sampleCapture(t)
	dir := t.TempDir()
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	t.Setenv("SURGE_ACCOUNTS_TOKEN_KEY", "token-key")
	views := filepath.Join(dir, "views.parquet")
	mustSurge(t, "import", "views", sample+"views.csv.gz", "-o", views)
	pool := filepath.Join(dir, "pool")
	out := mustSurge(t, "accounts", "build", "--views", views, "--ratio-max", "3", "--token-template", "tok.{account}.{hmac}",
		"--epoch", "2027-01-01T00:00:00Z", "-o", pool)
	if !strings.Contains(out, "accounts for") || !strings.Contains(out, "(3 each)") {
		t.Fatalf("accounts build: %s", out)
	}
	var meta struct{ Accounts, Users int64 }
	b, err := os.ReadFile(filepath.Join(pool, "pool.json"))
	if err != nil || json.Unmarshal(b, &meta) != nil || meta.Accounts != 3*meta.Users || meta.Users == 0 {
		t.Fatalf("pool.json %s (%v): want 3 accounts per user", b, err)
	}
	if _, _, err := surge(t, "accounts", "build", "--views", views, "--ratio-max", "2", "--token-template", "x", "-o", pool); err == nil || !strings.Contains(err.Error(), "exists; pass --force") {
		t.Errorf("a second build into the pool: %v; want it refused without --force", err)
	}
	// Even an empty directory is refused before any work, as a usage error.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if _, _, err := surge(t, "accounts", "build", "--views", views, "--ratio-max", "1", "--token-template", "tok.{account}", "-o", empty); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "exists; pass --force") {
		t.Errorf("a build into an empty directory: exit %d, %v; want exit %d, exists; pass --force", exitCode(err), err, exitUsage)
	}
	// The same viewing histories twice would put every viewing in a history twice.
	if _, _, err := surge(t, "accounts", "build", "--views", views, "--views", filepath.Dir(views)+"/./"+filepath.Base(views), "--ratio-max", "1",
		"--token-template", "tok.{account}", "-o", filepath.Join(dir, "twice")); err == nil || !strings.Contains(err.Error(), "are the same capture") {
		t.Errorf("--views given twice: %v; want it refused", err)
	}
	jsonl := filepath.Join(dir, "accounts.jsonl")
	mustSurge(t, "accounts", "export", pool, "--format", "jsonl", "-o", jsonl)
	if b, _ := os.ReadFile(jsonl); int64(strings.Count(string(b), "\n")) != meta.Accounts {
		t.Errorf("export: %d lines; want %d accounts", strings.Count(string(b), "\n"), meta.Accounts)
	}
	exportStops(t, pool) // accounts_export_test.go
	if st, err := os.Stat(jsonl); err == nil {
		exportSignal(t, pool, st.Size())
	}
	repeatedCredentials(t, views, capture) // accounts_export_test.go
	csv := mustSurge(t, "accounts", "export", pool, "--format", "csv")
	if !strings.HasPrefix(csv, "account,user,credential,region,device,history\n") || int64(strings.Count(csv, "\nsurge-u_")) != meta.Accounts {
		t.Errorf("export csv: %.200s", csv)
	}

	summary := filepath.Join(dir, "summary.json")
	text := mustSurge(t, "demo", "--from", capture, "--to", "+1m", "--ratio", "2", "--speed", "60", "--progress", "none",
		"--accounts", pool, "--summary-json", summary)
	if !strings.Contains(text, "accounts ") || !strings.Contains(text, "on exhaustion: share") {
		t.Errorf("report text has no accounts line:\n%s", text)
	}
	var s struct {
		Accounts struct {
			Pool                                   bool
			Accounts, Leased, Exhausted, Unmatched int64
			SharedSessions                         int64  `json:"shared_sessions"`
			OnExhausted                            string `json:"on_exhausted"`
		} `json:"accounts"`
	}
	b, _ = os.ReadFile(summary)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	a := s.Accounts
	if !a.Pool || a.Accounts != meta.Accounts || a.Leased == 0 || a.Exhausted != 0 || a.SharedSessions != 0 || a.OnExhausted != "share" {
		t.Errorf("summary accounts %+v; want the pool's %d accounts leased, none exhausted at 2x", a, meta.Accounts)
	}
	// Most signed-in users of the requests also watched: few are not in
	// the pool.
	if a.Unmatched*2 > a.Leased {
		t.Errorf("summary accounts %+v: most virtual users found no account of their recorded user", a)
	}

	// One account per user at 2x, told to stop: the run stops aborted,
	// saying why.
	small := filepath.Join(dir, "small")
	mustSurge(t, "accounts", "build", "--views", views, "--ratio-max", "1", "--token-template", "tok.{account}", "-o", small)
	stopped := filepath.Join(dir, "stopped.json")
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer target.Close()
	_, _, err = surge(t, "replay", "--from", capture, "--to", "+1m", "--ratio", "2", "--speed", "60", "--progress", "none",
		"--target", target.URL, "--accounts", small, "--accounts-exhausted", "stop", "--summary-json", stopped)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitAborted {
		t.Fatalf("--accounts-exhausted stop on an exhausted pool: %v; want exit %d (aborted)", err, exitAborted)
	}
	var st struct {
		AbortReason string `json:"abort_reason"`
		Accounts    struct{ Exhausted int64 }
	}
	b, _ = os.ReadFile(stopped)
	if json.Unmarshal(b, &st) != nil || !strings.Contains(st.AbortReason, "account pool exhausted") || st.Accounts.Exhausted != 1 {
		t.Errorf("stopped run's summary: abort_reason %q, %d exhausted; want the pool named, 1", st.AbortReason, st.Accounts.Exhausted)
	}
}

// accountFixtures adds what surge accounts' examples name: views.parquet and
// views/ (the sample's viewing histories), a token key, a CSV of staging
// accounts and a built pool.
func accountFixtures(t *testing.T, fx *fixtures) {
	t.Helper()
	views := filepath.Join(fx.root, "views", "views.parquet")
	mustSurge(t, "import", "views", sample+"views.csv.gz", "-o", views)
	fx.files["views.parquet"] = views
	fx.files["views"] = filepath.Dir(views)
	var creds strings.Builder
	creds.WriteString("account,token\n")
	for i := range 20000 {
		fmt.Fprintf(&creds, "loadtest-%05d,test-token-%05d\n", i, i)
	}
	fx.write(t, "staging-accounts.csv", strings.Split(strings.TrimSuffix(creds.String(), "\n"), "\n"), "", false)
	fx.write(t, "key", []string{"token-key"}, "", false)
	pool := filepath.Join(fx.root, "pool")
	mustSurge(t, "accounts", "build", "--views", views, "--ratio-max", "2", "--token-template", "tok.{account}", "-o", pool)
	fx.files["pool"] = pool
}
