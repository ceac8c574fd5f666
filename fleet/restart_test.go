package fleet

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
)

// TestFleetBrokerRestart restarts the only broker of a private cluster
// mid-run: the agents resume (commits, results and the consumer group come
// back), the run completes, and every (session, request) of the schedule
// reaches the target (acks=all: nothing written was lost).
func TestFleetBrokerRestart(t *testing.T) {
	tests := []struct {
		name string
		// downPastEnd keeps the broker down until after the schedule's end
		// plus settle: the agents must stay and send what is left late,
		// not leave the run with partitions unfinished.
		downPastEnd bool
	}{
		{"restart mid-run", false},
		{"down past the schedule's end", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testBrokerRestart(t, tt.downPastEnd) })
	}
}

func testBrokerRestart(t *testing.T, downPastEnd bool) {
	c := kafkatest.Private(t, 1)
	capture := kafkatest.Topic(t, c.Brokers, 6, "")
	const span = 10 * time.Second
	events := synthSpan(150, span)
	produce(t, capture, events)
	tp := testTopics(t, c.Brokers)
	f := startFleet(t, tp, 2)
	target := countingTarget{newRecorder(t)}
	spec := newSpec("run-restart", capture, target.URL, 1)
	spec.WindowTo, spec.Speed = base.Add(span+3*time.Second), 1
	spec.Late, spec.GraceNS = LateSend, int64(time.Second)
	spec.StartAt = time.Now().Add(4 * time.Second)
	start(t, tp, spec)

	time.Sleep(time.Until(spec.StartAt.Add(2 * time.Second)))
	t0 := time.Now()
	if downPastEnd {
		c.Stop()
		end := spec.StartAt.Add(spec.WindowTo.Sub(spec.WindowFrom))
		time.Sleep(time.Until(end.Add(settle + time.Second)))
		c.Start()
	} else {
		c.Restart()
	}
	t.Logf("broker restarted in %v, %v into the schedule", time.Since(t0).Round(time.Millisecond), t0.Sub(spec.StartAt).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), overrun+90*time.Second)
	defer cancel()
	fr, err := tp.Wait(ctx, spec.Run, overrun)
	if err != nil {
		t.Fatal(err)
	}
	want := expected(t, spec, events)
	got := target.counts()
	wantN, missing, dups, _ := tally(want, got)
	f.mu.Lock()
	results := len(f.results[spec.Run])
	f.mu.Unlock()
	t.Logf("schedule %d; target got %d: missing %d, duplicates %d; agents collected %d results, report scheduled %d; report: duplicates %d, late sent %d, skipped %d, done %v",
		wantN, len(target.snapshot()), missing, dups, results, fr.Summary.Scheduled, fr.Duplicates, fr.LateSent, fr.Skipped, fr.Done)
	fmt.Printf("fleet broker restart: schedule %d, missing %d, duplicates %d (%d reported), %d sent late\n", wantN, missing, dups, fr.Duplicates, fr.LateSent)
	for _, w := range fr.Warnings {
		t.Logf("warning: %s", w)
	}
	if missing > 0 {
		t.Errorf("%d requests of the schedule never reached the target", missing)
	}
	if !fr.Done || len(fr.Agents) != 2 {
		t.Errorf("report: done %v, %d agents; want every one of 2 final", fr.Done, len(fr.Agents))
	}
	// No result lost on the way to the report: a report the broker did not
	// take is sent again.
	if fr.Summary.Scheduled != int64(results) {
		t.Errorf("report scheduled %d; the agents collected %d results", fr.Summary.Scheduled, results)
	}
}

// TestFleetBrokerKilled runs on a private cluster of three brokers
// (scripts/kafka.sh --brokers 3, replication factor 3, min.insync.replicas
// 2, acks=all) and kills with SIGKILL the broker that leads the results
// topic mid-run: the agents go on with the other two, the run completes,
// every (session, request) of the schedule reaches the target and every
// result reaches the merged report.
func TestFleetBrokerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three brokers")
	}
	c := kafkatest.Private(t, 3)
	capture := kafkatest.Topic(t, c.Brokers, 6, "replicas=3")
	const span = 8 * time.Second
	events := synthSpan(120, span)
	produce(t, capture, events)
	tp := testTopics(t, c.Brokers)
	f := startFleet(t, tp, 2)
	target := countingTarget{newRecorder(t)}
	spec := newSpec("run-broker-killed", capture, target.URL, 1)
	spec.WindowTo, spec.Speed = base.Add(span+3*time.Second), 1
	spec.Late, spec.GraceNS = LateSend, int64(time.Second)
	spec.StartAt = time.Now().Add(5 * time.Second)
	start(t, tp, spec)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	md, err := tp.client().Metadata(ctx, &kafka.MetadataRequest{Topics: []string{tp.results()}})
	if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 1 {
		t.Fatalf("metadata of %s: %v %+v", tp.results(), err, md)
	}
	p := md.Topics[0].Partitions[0]
	if len(p.Replicas) != 3 {
		t.Fatalf("%s has %d replicas; want 3 (the brokers' default)", tp.results(), len(p.Replicas))
	}
	time.Sleep(time.Until(spec.StartAt.Add(2 * time.Second)))
	c.Kill(p.Leader.ID)
	t.Logf("broker %d (leader of %s) killed with SIGKILL %v into the schedule", p.Leader.ID, tp.results(), time.Since(spec.StartAt).Round(time.Millisecond))

	fr, err := tp.Wait(ctx, spec.Run, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := expected(t, spec, events)
	got := target.counts()
	wantN, missing, dups, _ := tally(want, got)
	f.mu.Lock()
	results := len(f.results[spec.Run])
	f.mu.Unlock()
	fmt.Printf("fleet, 1 of 3 brokers killed: schedule %d, missing %d, duplicates %d (%d reported), %d sent late; report scheduled %d of %d results\n",
		wantN, missing, dups, fr.Duplicates, fr.LateSent, fr.Summary.Scheduled, results)
	for _, w := range fr.Warnings {
		t.Logf("warning: %s", w)
	}
	if missing > 0 {
		t.Errorf("%d requests of the schedule never reached the target", missing)
	}
	if !fr.Done || len(fr.Agents) != 2 {
		t.Errorf("report: done %v, %d agents; want every one of 2 final", fr.Done, len(fr.Agents))
	}
	if fr.Summary.Scheduled != int64(results) {
		t.Errorf("report scheduled %d; the agents collected %d results", fr.Summary.Scheduled, results)
	}
}

// tally compares what the target got (path → count) with the schedule
// (key → count): the schedule's size, requests it never got, and requests
// it got more often than scheduled; lost lists the paths of the missing.
func tally(want map[key]int, got map[string]int) (wantN, missing, dups int, lost []string) {
	for k, n := range want {
		wantN += n
		p := fmt.Sprintf("/s/%s/%d", k.session, k.seq)
		switch {
		case got[p] < n:
			missing += n - got[p]
			lost = append(lost, p)
		case got[p] > n:
			dups += got[p] - n
		}
	}
	return wantN, missing, dups, lost
}
