// Package shaper owns the pure stream transforms that turn a recorded capture
// into a replay schedule: the time window, speed (time compression), loops
// (passes over the window, back to back) and ratio amplification, where a
// recorded session becomes zero, one or many virtual sessions with distinct
// virtual users, spread by a deterministic jitter. Time curves, per-class
// ratios, rewrites and test-account mapping grow here as more Ratios and
// transforms.
//
// A Shaper pulls schema.Exchange events in time order from a Source and
// yields Requests in intended-time order, each with its offset from the
// replay start. It does no I/O of its own and never sends anything: it imports
// no package of surge but schema, and the replay engine consumes its output.
//
// Every decision is a pure function of the capture, the Config and its Seed:
// the same inputs give the same schedule on every machine. Memory is bounded
// by the live sessions (times the ratio) and the clone jitter, never by the
// size of the capture.
package shaper
