package accounts

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/surge-replay/surge/schema"
)

// readRows reads a pool's accounts.parquet.
func readRows(t *testing.T, dir string) []Row {
	t.Helper()
	rows, err := parquet.ReadFile[Row](filepath.Join(dir, ParquetFile))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// wantHistories folds evs the way the documentation says, naively: per
// user, per (session, content), first time (shifted), furthest position,
// first device; sorted by time then content.
func wantHistories(evs []schema.ViewingEvent, shift time.Duration) map[string][]Viewing {
	type key struct{ user, session, content string }
	first := map[key]*Viewing{}
	for _, e := range evs {
		k := key{e.User, e.Session, e.Content}
		v := first[k]
		if v == nil {
			first[k] = &Viewing{Content: e.Content, Time: e.Time.Add(shift), PositionMS: e.PositionMS, Device: e.Device}
			continue
		}
		if e.Time.Add(shift).Before(v.Time) {
			v.Time, v.Device = e.Time.Add(shift), e.Device
		}
		v.PositionMS = max(v.PositionMS, e.PositionMS)
	}
	out := map[string][]Viewing{}
	for k, v := range first {
		out[k.user] = append(out[k.user], *v)
	}
	for _, h := range out {
		slices.SortFunc(h, func(a, b Viewing) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return strings.Compare(a.Content, b.Content)
		})
	}
	return out
}

func TestBuildHistoriesEqualTheSourceUsers(t *testing.T) {
	evs := syntheticViews(300, 1)
	for _, buckets := range []int{0, 1, 8} { // default, one bucket, several
		dir, meta := buildPool(t, evs, 2.5, buckets)
		rows := readRows(t, dir)
		shift := time.Duration(meta.ShiftNS)
		if want := t0.Add(24 * time.Hour); !meta.SourceLast.Add(shift).Equal(want) {
			t.Errorf("buckets %d: last event shifted to %v; want the epoch %v", buckets, meta.SourceLast.Add(shift), want)
		}
		want := wantHistories(evs, shift)
		if meta.Users != int64(len(want)) || meta.PerUser != 3 || int64(len(rows)) != meta.Users*3 || meta.Accounts != int64(len(rows)) {
			t.Fatalf("buckets %d: %d users × %d, %d rows, meta accounts %d; want %d users × 3", buckets, meta.Users, meta.PerUser, len(rows), meta.Accounts, len(want))
		}
		perUser := map[string]int{}
		for _, r := range rows {
			perUser[r.User]++
			if len(r.History) != len(want[r.User]) {
				t.Fatalf("account %s: %d viewings; want %d", r.Account, len(r.History), len(want[r.User]))
			}
			for i, v := range r.History {
				w := want[r.User][i]
				if v.Content != w.Content || !v.Time.Equal(w.Time) || v.PositionMS != w.PositionMS || v.Device != w.Device {
					t.Fatalf("account %s viewing %d = %+v; want %+v", r.Account, i, v, w)
				}
			}
			if !strings.HasPrefix(r.Credential, "tok."+r.Account+".") || len(r.Credential) != len("tok."+r.Account+".")+64 {
				t.Errorf("account %s: credential %q; want tok.ACCOUNT.HMAC", r.Account, r.Credential)
			}
		}
		for u, n := range perUser {
			if n != 3 {
				t.Errorf("user %s: %d accounts; want 3", u, n)
			}
		}
	}
}

// TestBuildIndexMatchesParquet: the index's ranges name the Parquet rows of
// each user, with the same names and credentials.
func TestBuildIndexMatchesParquet(t *testing.T) {
	dir, _ := buildPool(t, syntheticViews(200, 2), 2, 4)
	rows := readRows(t, dir)
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Accounts() != len(rows) || p.Users() != len(rows)/2 {
		t.Fatalf("index: %d accounts, %d users; want %d, %d", p.Accounts(), p.Users(), len(rows), len(rows)/2)
	}
	var buf []byte
	for i, r := range rows {
		first, n := p.Lookup(r.User)
		if n != 2 || i < first || i >= first+n {
			t.Fatalf("Lookup(%s) = %d, %d; want a range of 2 holding row %d", r.User, first, n, i)
		}
		var name, cred []byte
		name, cred, buf, err = p.Credential(i, buf)
		if err != nil || string(name) != r.Account || string(cred) != r.Credential {
			t.Fatalf("Credential(%d) = %q, %q, %v; want %q, %q", i, name, cred, err, r.Account, r.Credential)
		}
	}
	if _, n := p.Lookup("u_not-a-user"); n != 0 {
		t.Errorf("Lookup of an unknown user = %d accounts; want 0", n)
	}
}

func TestBuildCredentialsCSV(t *testing.T) {
	evs := syntheticViews(10, 3)
	dir := t.TempDir()
	views := writeViews(t, dir, evs)
	var csv strings.Builder
	csv.WriteString("token,account\n")
	for i := range 20 {
		csv.WriteString("tk" + string(rune('a'+i)) + ",acct" + string(rune('a'+i)) + "\n")
	}
	build := func(ratio float64, out string) (*Meta, error) {
		cr, err := NewCredentialsReader(strings.NewReader(csv.String()), "creds.csv")
		if err != nil {
			t.Fatal(err)
		}
		return Build(context.Background(), BuildConfig{Views: []string{views}, RatioMax: ratio, Credentials: cr, CredentialsName: "csv:creds.csv", Out: out})
	}
	// Enough: 10 users × 2 of 20 credentials, in order.
	out := filepath.Join(dir, "pool")
	if _, err := build(2, out); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, out)
	if len(rows) != 20 || rows[0].Account != "accta" || rows[0].Credential != "tka" || rows[19].Account != "acctt" {
		t.Errorf("rows: %d, first %s/%s; want 20 from the CSV in order", len(rows), rows[0].Account, rows[0].Credential)
	}
	// Short: 10 users × 3 needs 30; nothing is written.
	short := filepath.Join(dir, "short")
	_, err := build(3, short)
	if err == nil || !strings.Contains(err.Error(), "has 20 credentials; the pool needs 30") {
		t.Errorf("Build with 20 credentials for 30 accounts: %v; want an error saying so", err)
	}
	if _, serr := os.Stat(short); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("a failed build left %s: %v", short, serr)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".short*")); len(left) > 0 {
		t.Errorf("a failed build left %v", left)
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	views := writeViews(t, dir, syntheticViews(3, 4))
	exists := filepath.Join(dir, "exists")
	os.Mkdir(exists, 0o755)
	for _, c := range []struct {
		name string
		cfg  BuildConfig
		want string
	}{
		// No ratio.
		{"ratio", BuildConfig{Views: []string{views}, Minter: testMinter(t), Out: filepath.Join(dir, "a")}, "ratio-max 0"},
		// Neither a CSV nor a template.
		{"credentials", BuildConfig{Views: []string{views}, RatioMax: 1, Out: filepath.Join(dir, "b")}, "no credentials"},
		// An existing output without Force.
		{"exists", BuildConfig{Views: []string{views}, RatioMax: 1, Minter: testMinter(t), Out: exists}, "exists"},
		// Not a power of two.
		{"buckets", BuildConfig{Views: []string{views}, RatioMax: 1, Minter: testMinter(t), Out: filepath.Join(dir, "c"), Buckets: 3}, "power of two"},
		// A capture that is not there.
		{"views", BuildConfig{Views: []string{filepath.Join(dir, "none.parquet")}, RatioMax: 1, Minter: testMinter(t), Out: filepath.Join(dir, "d")}, "none.parquet"},
	} {
		_, err := Build(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Build = %v; want an error saying %q", c.name, err, c.want)
		}
	}
}

func TestExport(t *testing.T) {
	dir, meta := buildPool(t, syntheticViews(20, 5), 1, 0)
	rows := readRows(t, dir)
	for _, format := range []string{FormatJSONL, FormatCSV} {
		var b strings.Builder
		n, err := Export(context.Background(), dir, format, &b)
		if err != nil || n != meta.Accounts {
			t.Fatalf("Export %s = %d, %v; want %d accounts", format, n, err, meta.Accounts)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if format == FormatCSV {
			if lines[0] != "account,user,credential,region,device,history" {
				t.Errorf("csv header %q", lines[0])
			}
			lines = lines[1:]
		}
		if len(lines) != len(rows) || !strings.Contains(lines[0], rows[0].Account) || !strings.Contains(lines[0], rows[0].History[0].Content) {
			t.Errorf("%s: %d lines, first %q; want %d lines, the first naming %s", format, len(lines), lines[0], len(rows), rows[0].Account)
		}
	}
	if _, err := Export(context.Background(), dir, "xml", io.Discard); err == nil || !strings.Contains(err.Error(), "want csv or jsonl") {
		t.Errorf("Export xml = %v; want an error", err)
	}
}

// TestExportStops: Export stops when its context is done mid-way, with
// the context's error and part of the pool written.
func TestExportStops(t *testing.T) {
	dir, meta := buildPool(t, syntheticViews(600, 6), 2, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := cancelWriter{cancel: cancel}
	n, err := Export(ctx, dir, FormatJSONL, &w)
	if !errors.Is(err, context.Canceled) || n == 0 || n >= meta.Accounts {
		t.Errorf("Export cancelled at its first flush = %d, %v; want context.Canceled after some of %d accounts", n, err, meta.Accounts)
	}
}

// cancelWriter cancels a context at its first write.
type cancelWriter struct{ cancel func() }

func (c *cancelWriter) Write(p []byte) (int, error) {
	c.cancel()
	return len(p), nil
}
