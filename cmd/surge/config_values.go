package main

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/report"
)

// validateStrings returns the keys whose string value has a form of its
// own (a URL, a window bound, a percentage, a threshold) that it does not
// have, each a *keyError: checked with the decoding of every other value,
// before a command reads a file or sends anything. What needs the capture
// (a window outside it) or the disk (an output) is checked where it is
// used, and says the key too.
func (s *settings) validateStrings() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &keyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if t := s.Replay.Target; t != "" {
		if err := checkTarget(t); err != "" {
			bad("replay.target", "%s", err)
		}
	}
	for key, v := range map[string]string{
		"replay.to": s.Replay.To, "replay.window_from": s.Replay.WindowFrom, "replay.window_to": s.Replay.WindowTo,
		"inspect.from": s.Inspect.From, "inspect.to": s.Inspect.To,
		"run.start.window_from": s.Run.Start.WindowFrom, "run.start.window_to": s.Run.Start.WindowTo,
	} {
		if v != "" {
			if _, err := windowBound(v, time.Time{}, time.Time{}); err != nil {
				bad(key, "%q is not %s", v, windowForms)
			}
		}
	}
	for key, v := range map[string]string{"replay.surge_at": s.Replay.SurgeAt, "report.surge_at": s.Report.SurgeAt} {
		if v == "" || v == "auto" || v == "none" {
			continue
		}
		if _, err := windowBound(v, time.Time{}, time.Time{}); err != nil {
			bad(key, "%q is not auto, none, an RFC 3339 capture time or an offset from the capture start (12m)", v)
		}
	}
	if _, err := capture.ParseSessionKey(s.Import.SessionKey); err != nil {
		bad("import.session_key", "%s", valueMsg(s.Import.SessionKey, err, "session key"))
	}
	for key, v := range map[string]struct {
		s      string
		points bool
	}{
		"compare.max_p50_increase":        {s.Compare.MaxP50Increase, false},
		"compare.max_p99_increase":        {s.Compare.MaxP99Increase, false},
		"compare.max_error_rate_increase": {s.Compare.MaxErrorRateIncrease, true},
	} {
		if v.s != "" {
			if _, err := report.ParsePercent(v.s, v.points); err != nil {
				bad(key, "%s", valueMsg(v.s, err, ""))
			}
		}
	}
	for key, list := range map[string][]string{"replay.threshold": s.Replay.Threshold, "report.threshold": s.Report.Threshold, "run.start.threshold": s.Run.Start.Threshold} {
		for _, th := range list {
			if _, err := report.ParseThresholdFlag(th); err != nil {
				bad(key, "%s", valueMsg(th, err, "threshold"))
			}
		}
	}
	if since := s.Kafka.Tail.Since; since != "" {
		_, terr := time.Parse(time.RFC3339Nano, since)
		d, derr := time.ParseDuration(since)
		if terr != nil && (derr != nil || d <= 0) {
			bad("kafka.tail.since", "%q is neither a positive duration (10m) nor an RFC 3339 time", since)
		}
	}
	if b := s.Kafka.Tail.Brokers; b != "" {
		if _, err := kafkalog.ParseAddr(kafkalog.Scheme + "://" + b + "/topic"); err != nil {
			bad("kafka.tail.brokers", "%q: want HOST:PORT", b)
		}
	}
	if at := s.Run.Start.StartAt; at != "" {
		_, terr := time.Parse(time.RFC3339Nano, at)
		d, derr := time.ParseDuration(strings.TrimPrefix(at, "+"))
		if terr != nil && (!strings.HasPrefix(at, "+") || derr != nil || d < 0) {
			bad("run.start.start_at", "%q: want +DURATION (+10s) or an RFC 3339 time", at)
		}
	}
	if t := s.Run.Start.Target; t != "" {
		if err := checkTarget(t); err != "" {
			bad("run.start.target", "%s", err)
		}
	}
	if a := s.Demo.Serve.Addr; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("demo.serve.addr", "%q: want HOST:PORT on loopback (127.0.0.1:8080; port 0 picks a free one)", a)
		}
	}
	// Maps above are walked in random order: say the keys in order.
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].(*keyError).Key < errs[j].(*keyError).Key })
	return errs
}

// valueMsg says err about value v once: a library's error that repeats
// the value after its own noun ("threshold \"x\": …") loses the repeat,
// since the key's error shows the value.
func valueMsg(v string, err error, noun string) string {
	msg := err.Error()
	if noun != "" {
		msg = strings.TrimPrefix(msg, fmt.Sprintf("%s %q: ", noun, v))
	}
	if strings.HasPrefix(msg, strconv.Quote(v)) {
		return msg
	}
	return fmt.Sprintf("%q: %s", v, msg)
}

// checkTarget says what is wrong with a target URL, or "".
func checkTarget(t string) string {
	if !strings.Contains(t, "://") {
		return fmt.Sprintf("%s: the target needs a scheme: http://%s", t, t)
	}
	u, err := url.Parse(t)
	if err != nil {
		return fmt.Sprintf("%q is not a URL: %v", t, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("%s: scheme %q is not http or https", t, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Sprintf("%s: no host (want a URL like http://127.0.0.1:8080)", t)
	}
	return ""
}
