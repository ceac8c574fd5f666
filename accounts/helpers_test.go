package accounts

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

var t0 = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)

// syntheticViews returns viewing events of users users: each user watches
// 1–3 contents in 1–2 sessions, with start, heartbeats and stop, from
// random devices and regions; every few events have no session.
func syntheticViews(users int, seed uint64) []schema.ViewingEvent {
	r := rand.New(rand.NewPCG(seed, 1))
	devices := []string{"tv", "web", "ios", "android"}
	regions := []string{"eu-central", "eu-west", "us-east"}
	var evs []schema.ViewingEvent
	for u := range users {
		user := fmt.Sprintf("u_%016x", r.Uint64())
		for s := range 1 + r.IntN(2) {
			session := fmt.Sprintf("s_%d_%d", u, s)
			if r.IntN(10) == 0 {
				session = ""
			}
			dev, reg := devices[r.IntN(len(devices))], regions[r.IntN(len(regions))]
			for range 1 + r.IntN(3) {
				content := fmt.Sprintf("c%03d", r.IntN(50))
				at := t0.Add(time.Duration(r.IntN(1800)) * time.Second)
				pos := int64(r.IntN(600_000))
				for i, typ := range []string{schema.ViewStart, schema.ViewHeartbeat, schema.ViewStop} {
					evs = append(evs, schema.ViewingEvent{Time: at.Add(time.Duration(i) * time.Minute), User: user, Session: session,
						Content: content, Type: typ, PositionMS: pos + int64(i)*60_000, Device: dev, Region: reg, Source: "views"})
				}
			}
		}
	}
	return evs
}

// writeViews writes evs to a Parquet capture in dir.
func writeViews(t testing.TB, dir string, evs []schema.ViewingEvent) string {
	t.Helper()
	path := filepath.Join(dir, "views.parquet")
	w, err := eventlog.Create[schema.ViewingEvent](path, eventlog.WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(append([]schema.ViewingEvent(nil), evs...)...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// testMinter mints tokens keyed by "k".
func testMinter(t testing.TB) *Minter {
	t.Helper()
	acct, err := ParseTemplate(DefaultAccountTemplate, FieldUser, FieldK)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseTemplate("tok.{account}.{hmac}", FieldAccount, FieldUser, FieldK, FieldHMAC)
	if err != nil {
		t.Fatal(err)
	}
	return &Minter{Account: acct, Token: tok, Key: []byte("k")}
}

// buildPool builds a pool of evs with ratio-max r and returns its
// directory and Meta.
func buildPool(t testing.TB, evs []schema.ViewingEvent, r float64, buckets int) (string, *Meta) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "pool")
	meta, err := Build(context.Background(), BuildConfig{Views: []string{writeViews(t, dir, evs)}, RatioMax: r,
		Minter: testMinter(t), Epoch: t0.Add(24 * time.Hour), Out: out, Buckets: buckets})
	if err != nil {
		t.Fatal(err)
	}
	return out, meta
}
