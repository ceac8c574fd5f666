package replay

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// poolOf writes and opens the index of a pool giving each user perUser
// accounts USER-k with token tok-USER-k.
func poolOf(t *testing.T, users []string, perUser int) *accounts.Pool {
	t.Helper()
	sorted := slices.Clone(users)
	slices.SortFunc(sorted, func(a, b string) int {
		ha, hb := accounts.UserHash(a), accounts.UserHash(b)
		return map[bool]int{true: -1, false: 1}[ha < hb]
	})
	path := filepath.Join(t.TempDir(), accounts.IndexFile)
	w, err := accounts.NewIndexWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range sorted {
		w.AddUser(accounts.UserHash(u))
		for k := range perUser {
			if err := w.AddAccount(fmt.Sprintf("%s-%d", u, k), fmt.Sprintf("tok-%s-%d", u, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := accounts.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// signedInCapture is users recorded users, one session each of n requests
// 50 ms apart, all at once, each with a credential and a session cookie
// placeholder; the path names the recorded user.
func signedInCapture(users []string, n int) shaper.Opener {
	t0 := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	var evs []schema.Exchange
	for i := range n {
		for _, u := range users {
			evs = append(evs, schema.Exchange{Time: t0.Add(time.Duration(i) * 50 * time.Millisecond), Session: "s_" + u, User: u,
				Seq: int32(i), Method: "GET", Scheme: "http", Host: "example.com", Path: "/api/" + u, Protocol: "HTTP/1.1", Source: "test",
				Headers: []schema.Header{{Name: "Authorization", Value: "Bearer {{secret:0123456789abcdef}}"}, {Name: "Cookie", Value: "sid={{secret:fedcba9876543210}}"}}})
		}
	}
	return func() (shaper.Source, error) {
		i := 0
		return func() (*schema.Exchange, error) {
			if i == len(evs) {
				return nil, io.EOF
			}
			i++
			e := evs[i-1]
			return &e, nil
		}, nil
	}
}

// tokenTarget records, per recorded user (the path), the token and the
// session cookie of every request.
type tokenTarget struct {
	mu   sync.Mutex
	seen map[string][][2]string // recorded user -> (token, cookie)
}

func newTokenTarget(t *testing.T) (*tokenTarget, *url.URL) {
	tt := &tokenTarget{seen: map[string][][2]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tt.mu.Lock()
		u := strings.TrimPrefix(r.URL.Path, "/api/")
		tt.seen[u] = append(tt.seen[u], [2]string{strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), r.Header.Get("Cookie")})
		tt.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL)
	return tt, target
}

// TestPoolCloneKSignsInAsUsersAccount: at 3x with a pool of 3 accounts per
// recorded user, every virtual user (clone k of u) signs in as one of u's
// accounts, the 3 clones of u (all live at once) as 3 different ones, and
// a virtual user keeps its account for its whole session.
func TestPoolCloneKSignsInAsUsersAccount(t *testing.T) {
	users := []string{"u_a1", "u_b2", "u_c3", "u_d4"}
	pool := poolOf(t, users, 3)
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			tt, target := newTokenTarget(t)
			sh, err := shaper.New(shaper.Config{Speed: 1, Ratio: shaper.Constant(3), Seed: 3, Spread: -1}, signedInCapture(users, 4))
			if err != nil {
				t.Fatal(err)
			}
			_, st := replayCase(t, Config{Target: target, Pool: pool}, drv, sh)
			tt.mu.Lock() // the handlers' writes, as the race detector sees them
			defer tt.mu.Unlock()
			for _, u := range users {
				tokens := map[string]string{} // token -> cookie (virtual user)
				for _, tc := range tt.seen[u] {
					if !strings.HasPrefix(tc[0], "tok-"+u+"-") {
						t.Errorf("a virtual user of %s presented %q; want one of %s's accounts", u, tc[0], u)
					}
					if c, ok := tokens[tc[0]]; ok && c != tc[1] {
						t.Errorf("%s: token %s presented by two virtual users (%s and %s)", u, tc[0], c, tc[1])
					}
					tokens[tc[0]] = tc[1]
				}
				if len(tt.seen[u]) != 12 || len(tokens) != 3 {
					t.Errorf("%s: %d requests with %d tokens; want 12 with 3 (one per clone)", u, len(tt.seen[u]), len(tokens))
				}
			}
			if st.AccountsLeased != 12 || st.AccountsExhausted != 0 || st.AccountsUnmatched != 0 {
				t.Errorf("stats %+v; want 12 leases, none exhausted or unmatched", st)
			}
		})
	}
}

// TestPoolExhausted: at 4x with 3 accounts per user, the 4th clone of each
// user shares an account (counted, share) or stops the run (stop).
func TestPoolExhausted(t *testing.T) {
	users := []string{"u_a1", "u_b2"}
	pool := poolOf(t, users, 3)
	sched := func() *shaper.Shaper {
		sh, err := shaper.New(shaper.Config{Speed: 1, Ratio: shaper.Constant(4), Seed: 3, Spread: -1}, signedInCapture(users, 4))
		if err != nil {
			t.Fatal(err)
		}
		return sh
	}
	_, target := newTokenTarget(t)
	_, st := replayCase(t, Config{Target: target, Pool: pool}, DriverHTTP, sched())
	if st.AccountsExhausted != 2 || st.AccountsSharedSessions != 2 || st.AccountsLeased != 8 || st.Sent != 32 {
		t.Errorf("share: stats %+v; want 2 virtual users (2 sessions) on a shared account of 8 leases, 32 sent", st)
	}

	cfg := Config{Target: target, Pool: pool, AccountsExhausted: accounts.ExhaustedStop, Driver: DriverHTTP, GoClock: true}
	st, err := Run(t.Context(), cfg, sched(), nil, func(*schema.Result) {})
	if !errors.Is(err, ErrStopped) || st == nil || !strings.Contains(st.Stopped, "account pool exhausted") {
		t.Fatalf("stop: Run = %v (stopped %q); want ErrStopped for an exhausted pool", err, st.Stopped)
	}
	if st.AccountsExhausted != 1 || st.Sent >= 32 {
		t.Errorf("stop: stats %+v; want 1 exhausted user and the run cut short", st)
	}
	if errs := (&Config{Target: target, AccountsExhausted: "panic"}).Validate(); len(errs) != 1 {
		t.Errorf("Validate with accounts-exhausted panic: %v; want one error", errs)
	}
}

// TestPoolDamagedRecordStopsRun: a bit flipped in the names area of the
// pool's index after it was opened (a credential's byte) is found when
// that account is lent: the run stops, naming the index and the record,
// and the damaged credential is never sent.
func TestPoolDamagedRecordStopsRun(t *testing.T) {
	users := []string{"u_a1", "u_b2"}
	pool := poolOf(t, users, 1)
	f, err := os.OpenFile(pool.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	at := st.Size() - 4 - 2 // the last record: its credential's next-to-last byte, before its CRC
	f.ReadAt(b[:], at)
	b[0] ^= 1
	f.WriteAt(b[:], at)
	f.Close()
	tt, target := newTokenTarget(t)
	sh, err := shaper.New(shaper.Config{Speed: 1, Ratio: shaper.Constant(1), Seed: 3, Spread: -1}, signedInCapture(users, 2))
	if err != nil {
		t.Fatal(err)
	}
	stats, err := Run(t.Context(), Config{Target: target, Pool: pool, Driver: DriverHTTP, GoClock: true}, sh, nil, func(*schema.Result) {})
	stopped := ""
	if stats != nil {
		stopped = stats.Stopped
	}
	if !errors.Is(err, ErrStopped) || !strings.Contains(stopped, pool.Path()) || !strings.Contains(stopped, "name and credential record") || !strings.Contains(stopped, "CRC-32C") {
		t.Fatalf("Run = %v (stopped %q); want the run stopped naming %s and the damaged record", err, stopped, pool.Path())
	}
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for u, seen := range tt.seen {
		for _, tc := range seen {
			if tc[0] != "tok-"+u+"-0" {
				t.Errorf("%s presented %q; want only undamaged credentials sent", u, tc[0])
			}
		}
	}
}
