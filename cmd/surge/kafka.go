package main

import "github.com/spf13/cobra"

// newKafkaCommand is the parent of the commands that work on a Kafka topic
// directly (tail, archive; docs/KAFKA.md).
func newKafkaCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kafka",
		Short: "Work with captures in Kafka topics",
		Long: `Commands on Kafka topics holding a capture (docs/KAFKA.md). Import, replay
and inspect take kafka://HOST:PORT/TOPIC wherever they take a path.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newKafkaTailCommand(cfg), newKafkaArchiveCommand(cfg))
	return cmd
}
