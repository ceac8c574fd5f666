package kafkatest

import (
	"context"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

// TestTopic creates a topic on the shared broker and sees its partitions.
func TestTopic(t *testing.T) {
	a := Topic(t, Brokers(t), 3, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parts, err := kafkalog.Partitions(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("partitions %v, want 3", parts)
	}
}
