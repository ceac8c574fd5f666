package replay

import (
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/shaper"
)

func cookie(a rawArrival, name string) (string, bool) {
	c, _ := a.header("Cookie")
	for _, kv := range strings.Split(c, "; ") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// TestFieldCasePlaceholders: at 3x with --accounts, every virtual user
// (anonymous ones too) has its own identity: its own session cookie and,
// while accounts remain, an account no other live user has; a secret shared
// by every user (X-Api-Key) comes from Secrets.
func TestFieldCasePlaceholders(t *testing.T) {
	path := importCase(t, "placeholders")
	accounts, err := LoadAccounts(filepath.Join("testdata", "field-cases", "placeholders", "accounts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]bool{}
	for _, a := range accounts {
		tokens["Bearer "+a.Token] = true
	}
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			rec, target := newRawRecording(t, 0)
			cfg := Config{Target: target, Accounts: accounts, Secrets: map[string]string{"X-Api-Key": "staging-app-key"}}
			_, st := replayCase(t, cfg, drv, shape(t, path, shaper.Config{Ratio: shaper.Constant(3), Seed: 7}))
			got := rec.all()
			if len(got) != 75*3 {
				t.Fatalf("%d requests arrived; want %d", len(got), 75*3)
			}
			tokenOf := map[string]string{} // session cookie -> token
			langs := 0
			sidsOf := map[string]map[string]bool{}
			for _, a := range got {
				sid, ok := cookie(a, "sid")
				auth, _ := a.header("Authorization")
				if !ok || !tokens[auth] {
					t.Fatalf("%s: sid %q, Authorization %q: want a session cookie and an account's token", a.target, sid, auth)
				}
				if key, _ := a.header("X-Api-Key"); key != "staging-app-key" && strings.Contains(a.target, "sess=") && !strings.Contains(a.target, "anon") {
					t.Errorf("%s: X-Api-Key %q; want the configured secret", a.target, key)
				}
				// A preference cookie is replayed as recorded.
				if lang, ok := cookie(a, "lang"); ok {
					langs++
					if lang != "en" {
						t.Errorf("%s: lang=%q; want lang=en as recorded", a.target, lang)
					}
				}
				if prev, ok := tokenOf[sid]; ok && prev != auth {
					t.Errorf("session cookie %s presented two tokens %s and %s", sid, prev, auth)
				}
				tokenOf[sid] = auth
				if sidsOf[auth] == nil {
					sidsOf[auth] = map[string]bool{}
				}
				sidsOf[auth][sid] = true
			}
			if langs == 0 {
				t.Error("no request carried the recorded lang cookie")
			}
			// 25 recorded sessions x 3 = 75 virtual sessions, each with
			// its own session cookie.
			if len(tokenOf) != 75 {
				t.Errorf("%d distinct session cookies; want 75 (one per virtual session)", len(tokenOf))
			}
			// Virtual users: 20 recorded users (one has 2 sessions... the
			// capture's) and anonymous sessions; every one has its own
			// account: tokens shared only by sessions of one user.
			if st.AccountsExhausted != 0 || int(st.AccountsLeased) != len(sidsOf) {
				t.Errorf("leased %d, exhausted %d; %d distinct tokens", st.AccountsLeased, st.AccountsExhausted, len(sidsOf))
			}
			if len(sidsOf) < 60 {
				t.Errorf("%d distinct tokens among 75 virtual sessions: users share accounts", len(sidsOf))
			}
		})
	}
}

// TestLeases: exclusive while accounts remain, returned after the idle
// time, shared and counted when exhausted.
func TestLeases(t *testing.T) {
	l := newLeases(2, time.Minute)
	a, b := l.get("u1", 0), l.get("u2", time.Second)
	if a == b {
		t.Fatalf("two live users share account %d", a)
	}
	if l.get("u1", 2*time.Second) != a {
		t.Error("a live user's account changed")
	}
	c := l.get("u3", 3*time.Second) // pool exhausted
	if l.exhausted.Load() != 1 {
		t.Errorf("exhausted %d; want 1 (account %d shared)", l.exhausted.Load(), c)
	}
	// u1 and u2 idle for over a minute: their accounts are free again.
	d, e := l.get("u4", 3*time.Minute), l.get("u5", 3*time.Minute+time.Second)
	if d == e || l.exhausted.Load() != 1 {
		t.Errorf("after expiry: accounts %d and %d, exhausted %d", d, e, l.exhausted.Load())
	}
}

// TestFieldCaseClosedThink: in closed mode the next request follows the
// previous response by the recorded think time (300 ms gap - 200 ms
// latency), so against a target as fast as production (200 ms) requests
// arrive ~300 ms apart, not 500.
func TestFieldCaseClosedThink(t *testing.T) {
	path := importCase(t, "closed-think")
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			rec, target := newRawRecording(t, 200*time.Millisecond)
			replayCase(t, Config{Target: target, Mode: Closed}, drv, shape(t, path, shaper.Config{}))
			bySess := map[string][]time.Time{}
			for _, a := range rec.all() {
				u, _ := url.Parse(a.target)
				s := u.Query().Get("sess")
				bySess[s] = append(bySess[s], a.at)
			}
			var gaps []time.Duration
			for _, ts := range bySess {
				sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
				for i := 1; i < len(ts); i++ {
					gaps = append(gaps, ts[i].Sub(ts[i-1]))
				}
			}
			sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
			if len(gaps) < 50 {
				t.Fatalf("%d gaps", len(gaps))
			}
			// Generous for a loaded machine, but well below 500 ms.
			if med := gaps[len(gaps)/2]; med < 280*time.Millisecond || med > 420*time.Millisecond {
				t.Errorf("median gap %v; want ~300 ms (gaps %v .. %v)", med, gaps[0], gaps[len(gaps)-1])
			}
		})
	}
}

// TestBucketNeverDropsAScheduleUnderTheCap: --max-rps R allows any schedule
// with at most R requests in a second.
func TestBucketNeverDropsAScheduleUnderTheCap(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		at   func(i int) time.Duration
		n    int
		drop int
	}{
		// evenly spaced exactly at the cap, for 10 s
		{"at the cap", 100, func(i int) time.Duration { return time.Duration(i) * 10 * time.Millisecond }, 1000, 0},
		// one-second resolution: 100 requests at one instant each second
		{"one-second bursts", 100, func(i int) time.Duration { return time.Duration(i/100) * time.Second }, 1000, 0},
		// twice the cap at one instant per second: half dropped
		{"bursts over", 100, func(i int) time.Duration { return time.Duration(i/200) * time.Second }, 1000, 500},
	}
	for _, tt := range tests {
		b := newBucket(tt.rate)
		dropped := 0
		for i := range tt.n {
			if !b.allow(tt.at(i)) {
				dropped++
			}
		}
		if dropped != tt.drop {
			t.Errorf("%s: dropped %d of %d; want %d", tt.name, dropped, tt.n, tt.drop)
		}
	}
}

// TestFilledSecretWidth: a placeholder filled without a secret or an
// account is "surge-" and 16 hex digits for every user, leading zeros kept.
func TestFilledSecretWidth(t *testing.T) {
	s := newSubstituter(nil, nil, 0)
	for i := range 2000 {
		user := "u" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
		if v := s.value("{{secret:sid}}", user, "Cookie"); len(v) != len("surge-")+16 || !strings.HasPrefix(v, "surge-") {
			t.Fatalf("value for %q = %q; want surge- and 16 hex digits", user, v)
		}
	}
}
