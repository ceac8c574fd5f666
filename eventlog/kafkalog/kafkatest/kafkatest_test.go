package kafkatest

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

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

// TestTopicKeepsOldEvents: a topic surge creates has no time retention, so
// a capture from last year is not deleted by the broker's retention check.
func TestTopicKeepsOldEvents(t *testing.T) {
	a := Topic(t, Brokers(t), 1, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(a.Brokers...), Transport: kafkalog.Transport()}
	res, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: a.Topic, ConfigNames: []string{"retention.ms"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range res.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "retention.ms" {
				found = true
				if e.ConfigValue != "-1" {
					t.Errorf("retention.ms = %s; want -1", e.ConfigValue)
				}
			}
		}
	}
	if !found {
		t.Errorf("no retention.ms in %+v", res.Resources)
	}
}
