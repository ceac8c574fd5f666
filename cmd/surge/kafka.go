package main

import "github.com/spf13/cobra"

// newKafkaCommand is the parent of the commands that work on Kafka topics.
func newKafkaCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kafka",
		Short: "Work with event logs in Kafka topics",
	}
	cmd.AddCommand(newKafkaArchiveCommand(cfg))
	return cmd
}
