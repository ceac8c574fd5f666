package accounts

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// writeIndex writes the index of users with perUser accounts each (named
// USER-k, credential tok-USER-k) and opens it.
func writeIndex(t testing.TB, users []string, perUser int) *Pool {
	t.Helper()
	sorted := slices.Clone(users)
	slices.SortFunc(sorted, func(a, b string) int {
		ha, hb := UserHash(a), UserHash(b)
		if ha < hb {
			return -1
		} else if ha > hb {
			return 1
		}
		return 0
	})
	path := filepath.Join(t.TempDir(), IndexFile)
	w, err := NewIndexWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range sorted {
		if err := w.AddUser(UserHash(u)); err != nil {
			t.Fatal(err)
		}
		for k := range perUser {
			if err := w.AddAccount(fmt.Sprintf("%s-%d", u, k), fmt.Sprintf("tok-%s-%d", u, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func userNames(n int) []string {
	us := make([]string, n)
	for i := range us {
		us[i] = fmt.Sprintf("u_%04d", i)
	}
	return us
}

// TestLenderCloneKOfUserU: clone k of recorded user u signs in as u's
// account k, while it is free.
func TestLenderCloneKOfUserU(t *testing.T) {
	p := writeIndex(t, userNames(50), 3)
	l, err := NewLender(p, LenderConfig{Idle: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range userNames(50) {
		for k := range 3 {
			id := fmt.Sprintf("%s/clone%d", u, k)
			ls, err := l.Get(id, u, "s-"+id, k, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%s-%d", u, k); ls.Name != want || ls.Credential != "tok-"+want || !ls.Own || ls.Shared {
				t.Errorf("Get(clone %d of %s) = %s (%s, own %v, shared %v); want %s", k, u, ls.Name, ls.Credential, ls.Own, ls.Shared, want)
			}
		}
	}
	if st := l.Stats(); st.Leased != 150 || st.Exhausted != 0 || st.Unmatched != 0 {
		t.Errorf("stats %+v; want 150 leased, nothing exhausted", st)
	}
}

// TestLenderNoAccountSharedByLiveUsers is a property test over schedules of
// many overlapping clones (several loops of 6 clones of users with 2
// accounts each, and users the pool has no account of): at every lease, the
// account is held by no other live virtual user unless the lease is marked
// shared, which happens exactly when every fitting account is held; clones
// get their own user's accounts; accounts come back after the idle time.
func TestLenderNoAccountSharedByLiveUsers(t *testing.T) {
	const idle = 10 * time.Second
	users := userNames(20)
	p := writeIndex(t, users, 2)
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		l, err := NewLender(p, LenderConfig{Idle: idle})
		if err != nil {
			t.Fatal(err)
		}
		type vu struct {
			recorded string
			clone    int
		}
		var vus []vu
		for _, u := range users {
			for k := range 6 {
				vus = append(vus, vu{u, k})
			}
		}
		for i := range 10 {
			vus = append(vus, vu{fmt.Sprintf("stranger-%d", i), 0})
		}
		last := map[string]time.Duration{} // model: virtual user → last request
		holder := map[int]string{}         // model: account → exclusive holder
		now := time.Duration(0)
		var exhausted int64
		for range 3000 {
			now += time.Duration(r.IntN(400)) * time.Millisecond
			v := vus[r.IntN(len(vus))]
			id := fmt.Sprintf("%s#%d", v.recorded, v.clone)
			live := func(id string) bool { t, ok := last[id]; return ok && now-t <= idle }
			held := live(id)
			for a, h := range holder {
				if !live(h) {
					delete(holder, a)
				}
			}
			first, n := p.Lookup(v.recorded)
			free := 0
			for a := first; a < first+n; a++ {
				if holder[a] == "" {
					free++
				}
			}
			ls, err := l.Get(id, v.recorded, "s", v.clone, now)
			if err != nil {
				t.Fatal(err)
			}
			last[id] = now
			if held {
				continue
			}
			if h := holder[ls.Account]; h != "" && !ls.Shared {
				t.Fatalf("seed %d at %v: %s leased account %d, held by live %s", seed, now, id, ls.Account, h)
			}
			if n > 0 {
				if ls.Account < first || ls.Account >= first+n || !ls.Own {
					t.Fatalf("seed %d: clone %d of %s got account %d outside its range %d+%d", seed, v.clone, v.recorded, ls.Account, first, n)
				}
				if ls.Shared != (free == 0) {
					t.Fatalf("seed %d at %v: %s shared=%v with %d of its accounts free", seed, now, id, ls.Shared, free)
				}
				if want := first + v.clone%n; holder[want] == "" && ls.Account != want {
					t.Fatalf("seed %d: clone %d of %s got account %d while its own %d was free", seed, v.clone, v.recorded, ls.Account, want)
				}
			}
			if ls.Shared {
				exhausted++
			} else {
				holder[ls.Account] = id
			}
		}
		if st := l.Stats(); st.Exhausted != exhausted || exhausted == 0 {
			t.Errorf("seed %d: Stats().Exhausted = %d; the model counted %d (want some: 6 clones, 2 accounts)", seed, st.Exhausted, exhausted)
		}
	}
}

func TestLenderExhaustion(t *testing.T) {
	p := writeIndex(t, []string{"u_a"}, 2)
	share, _ := NewLender(p, LenderConfig{Idle: time.Minute})
	for k := range 3 {
		share.Get(fmt.Sprintf("v%d", k), "u_a", fmt.Sprintf("s%d", k), k, 0)
	}
	// The third user shares; its second session counts again, the same
	// session does not.
	share.Get("v2", "u_a", "s2", 2, time.Second)
	share.Get("v2", "u_a", "s2b", 2, 2*time.Second)
	if st := share.Stats(); st.Exhausted != 1 || st.SharedSessions != 2 || st.Leased != 3 {
		t.Errorf("share: stats %+v; want 1 exhausted user, 2 shared sessions, 3 leases", st)
	}
	// After the idle time the accounts come back: no more exhaustion.
	ls, _ := share.Get("v3", "u_a", "s3", 3, 3*time.Minute)
	if ls.Shared || share.Live() != 1 {
		t.Errorf("after idle: shared %v, %d live; want an own account, 1 live", ls.Shared, share.Live())
	}

	stop, _ := NewLender(p, LenderConfig{Exhausted: ExhaustedStop})
	stop.Get("v0", "u_a", "s", 0, 0)
	stop.Get("v1", "u_a", "s", 1, 0)
	if _, err := stop.Get("v2", "u_a", "s", 2, 0); !errors.Is(err, ErrExhausted) {
		t.Errorf("stop: third Get = %v; want ErrExhausted", err)
	}
	if _, err := NewLender(p, LenderConfig{Exhausted: "panic"}); err == nil {
		t.Error("NewLender with policy panic: no error")
	}
}

// TestLookupsDoNotAllocate: the hot path (a user's range, a live user's
// lease, a credential into a buffer) allocates nothing.
func TestLookupsDoNotAllocate(t *testing.T) {
	users := userNames(1000)
	p := writeIndex(t, users, 2)
	l, _ := NewLender(p, LenderConfig{})
	l.Get("v", users[7], "s", 0, 0)
	buf := make([]byte, 256)
	i := 0
	for name, f := range map[string]func(){
		"Lookup":     func() { p.Lookup(users[i%len(users)]); i++ },
		"Get (held)": func() { l.Get("v", users[7], "s", 0, time.Second) },
		"Credential": func() { p.Credential(i%p.Accounts(), buf); i++ },
	} {
		if name == "Credential" && raceEnabled {
			continue // os.File.ReadAt allocates under the race detector
		}
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per call; want 0", name, n)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	users := userNames(100_000)
	p := writeIndex(b, users, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, n := p.Lookup(users[i%len(users)]); n != 1 {
			b.Fatal("missing user")
		}
	}
}
