package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/fleet"
)

func newAgentCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent --brokers B --group G [--allow HOSTS]",
		Short: "Be one replay agent of a fleet: take part in every run started on the control topic",
		Long: `Agent follows the fleet's control topic and takes part in every run started
there (surge run start): the agents of a fleet (--group) form one Kafka consumer
group per run over its capture topic, each replays the partitions it is given
with the run's shaper from the run's start time, and publishes its per-second
results and clock offset to the results topic (surge run report merges them).

An agent refuses a run whose target is not on its own allowlist (--allow;
loopback only by default), and says so on the results topic: whoever can write
the control topic cannot aim the fleet anywhere else. SIGTERM or Ctrl-C stops
the agent: its runs send their final reports and leave the group.`,
		Example: `  surge agent --brokers 127.0.0.1:9092 --group fleet
  surge agent --brokers k1:9092,k2:9092 --group fleet --allow staging.internal,198.51.100.0/24`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ac := fleet.AgentConfig{
				Topics: fleet.Topics{Brokers: cfg.s.Agent.Brokers, Control: cfg.s.Agent.ControlTopic, Results: cfg.s.Agent.ResultsTopic},
				Group:  cfg.s.Agent.Group, ID: cfg.s.Agent.ID, Allow: cfg.s.Agent.Allow,
				Log: cmd.ErrOrStderr(),
			}
			a, err := fleet.NewAgent(ac)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSlice("brokers", nil, "Kafka bootstrap brokers HOST:PORT[,...] (required)")
	f.String("group", "", "the fleet's name: agents of one group share runs (required)")
	f.String("id", "", "this agent's name in reports (default HOSTNAME-PID)")
	f.StringSlice("allow", nil, "hosts, IPs and CIDR prefixes a run's target may resolve to (default loopback only)")
	f.String("control-topic", fleet.DefaultControlTopic, "the fleet's control topic")
	f.String("results-topic", fleet.DefaultResultsTopic, "the fleet's results topic")
	cfg.bindAll(cmd, "agent")
	return cmd
}
