package kafkatest

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/schema"
)

// EventsStart is the time of event 0 of Event: 40 minutes past the hour,
// between 2h20m and 3h20m ago. Event i is i×EventsGap later, so a million
// events span about two hours (three hour partitions) and end more than
// 20 minutes ago; event 171429 is the first of the second hour.
//
// Events are recent on purpose: the broker deletes records by their
// timestamp (the event time) after its retention (24 h in
// scripts/kafka.sh), and refuses timestamps far in the future.
var EventsStart = time.Now().UTC().Truncate(time.Hour).Add(-3*time.Hour + 40*time.Minute)

// EventsGap is the time between consecutive events of Event.
const EventsGap = 7 * time.Millisecond

// Event returns test event i: session s<i mod 5000>, seq i/5000, path
// /e/<i> (the path identifies the event), one User-Agent header.
func Event(i int) schema.Exchange {
	return schema.Exchange{
		Time:     EventsStart.Add(time.Duration(i) * EventsGap),
		Session:  "s" + strconv.Itoa(i%5000),
		User:     "u" + strconv.Itoa(i%5000),
		Seq:      int32(i / 5000),
		Method:   "GET",
		Scheme:   "http",
		Host:     "api.example.com",
		Path:     "/e/" + strconv.Itoa(i),
		Headers:  []schema.Header{{Name: "User-Agent", Value: "kafkatest/1"}},
		Status:   schema.Int32(200),
		Region:   "eu-west",
		Device:   "tv",
		Protocol: schema.ProtoHTTP11,
		Source:   "kafkatest",
	}
}

// Produce writes events from..from+n-1 of Event to a with a kafkalog.Writer.
func Produce(t testing.TB, a kafkalog.Addr, from, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w, err := kafkalog.NewWriter(ctx, a, kafkalog.WriterConfig{Source: "kafkatest"})
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		e := Event(i)
		if err := w.Add(&e); err != nil {
			w.Abort()
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// CheckArchive reads every event file under dir with eventlog and fails
// the test unless it holds events 0..n-1 of Event exactly once each. It
// returns the number of files.
func CheckArchive(t testing.TB, dir string, n int) int {
	t.Helper()
	return CheckArchiveRange(t, dir, 0, n)
}

// CheckArchiveRange is CheckArchive for events from..to-1.
func CheckArchiveRange(t testing.TB, dir string, from, to int) int {
	t.Helper()
	files, err := eventlog.Files([]string{dir}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := eventlog.Open[schema.Exchange](files, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := to - from
	seen := make([]uint8, n)
	var total, dups, foreign int
	buf := make([]schema.Exchange, 4096)
	for {
		k, err := r.Read(buf)
		for _, e := range buf[:k] {
			total++
			i, perr := strconv.Atoi(strings.TrimPrefix(e.Path, "/e/"))
			if perr != nil || i < from || i >= to || e.Time != EventsStart.Add(time.Duration(i)*EventsGap) {
				foreign++
				continue
			}
			if seen[i-from]++; seen[i-from] > 1 {
				dups++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	missing, first := 0, -1
	for i, c := range seen {
		if c == 0 {
			if missing++; first < 0 {
				first = from + i
			}
		}
	}
	if total != n || dups > 0 || missing > 0 || foreign > 0 {
		t.Fatalf("archive %s: %d events in %d files; want %d (events %d..%d): %d duplicates, %d missing (first: event %d), %d not from Event",
			dir, total, len(files), n, from, to-1, dups, missing, first, foreign)
	}
	return len(files)
}

// WaitCommitted waits until group has committed the end offset of every
// partition of a, failing the test after timeout.
func WaitCommitted(t testing.TB, a kafkalog.Addr, group string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		committed, end, err := kafkalog.GroupOffsets(ctx, a, group)
		cancel()
		if err == nil {
			done := true
			for p, e := range end {
				if committed[p] != e {
					done = false
				}
			}
			if done {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s has not committed the end of %s after %s: committed %v, end %v, err %v", group, a.Topic, timeout, committed, end, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
