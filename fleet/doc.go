// Package fleet runs one replay across many agents through Kafka, with no
// coordinator of its own.
//
// A run is a RunSpec published to a control topic (one partition, so every
// agent reads the same total order), followed by control Events (set
// ratio=R, pause, resume, stop) on the same topic. A run's State is the
// fold of its events (Fold), a pure function: an agent that starts late
// reads the topic from the beginning and gets the same state.
//
// Agents (Agent) form one Kafka consumer group per run over the capture
// topic; each seeks its partitions to the window's start by timestamp (or
// resumes from the group's committed offset), merges them in time order,
// applies the same shaper as a single-machine replay (same window, seed,
// ratio and speed: the shaper decides per session by keyed hash, and a
// session lives in one partition, so the fleet's union is what one machine
// sends), and drives package replay with the run's start time. Each agent
// publishes per-second report.AggregatorState deltas and its clock offset
// to a results topic; Collect merges them into one report.RunSummary and a
// per-agent table.
//
// Time: a control event carries the wall time it takes effect (its At, a
// lead after it was issued), and an agent reads the capture at most
// Lookahead ahead of the clock, so every agent applies a change at the same
// point of the schedule.
package fleet
