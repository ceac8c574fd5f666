package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/shaper"
)

// MetaControls is the results file metadata key of a run's control events
// (a JSON array of shaper.Control, in effect order).
const MetaControls = "surge.controls"

// liveOptions say how a replay is controlled while it runs.
type liveOptions struct {
	control string // --control: listen address of the control API ("" off)
	token   string // --control-token
	watch   bool   // --watch: reload the --config file on change
	file    string // the --config file
}

// on reports whether the run is under live control.
func (l *liveOptions) on() bool { return l.control != "" || (l.watch && l.file != "") }

// controlAddr returns the listen address of --control: a bare port or
// ":port" binds loopback.
func controlAddr(s string) string {
	if h, p, err := net.SplitHostPort(s); err == nil && h == "" {
		return net.JoinHostPort("127.0.0.1", p)
	}
	if _, err := net.LookupPort("tcp", s); err == nil {
		return net.JoinHostPort("127.0.0.1", s)
	}
	return s
}

// checkControl returns the problems of the control options.
func (l *liveOptions) check(label func(key string) string) []error {
	if l.watch && l.file == "" {
		return []error{fmt.Errorf("%s: no config file to watch: give --config FILE", label("replay.watch"))}
	}
	if l.control == "" {
		return nil
	}
	addr := controlAddr(l.control)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return []error{fmt.Errorf("%s %q: want HOST:PORT or a port (%v)", label("replay.control"), l.control, err)}
	}
	if !replay.IsLoopbackAddr(addr) && l.token == "" {
		return []error{fmt.Errorf("%s %s is not loopback: give --control-token (or SURGE_REPLAY_CONTROL_TOKEN) so that only holders of the token can change the run", label("replay.control"), l.control)}
	}
	return nil
}

// serveControl starts the control API on the options' address; the
// returned function shuts it down.
func serveControl(l *liveOptions, live *replay.Live, log io.Writer) (stop func(), err error) {
	if l.control == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", controlAddr(l.control))
	if err != nil {
		return nil, fmt.Errorf("replay: --control: %w", err)
	}
	srv := &http.Server{Handler: &replay.ControlHandler{Live: live, Token: l.token}, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(log, "control   http://%s/v1/run (surge ctl --addr http://%s)\n", ln.Addr(), ln.Addr())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.Serve(ln)
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		wg.Wait()
	}, nil
}

// controlsJSON returns the control events as recorded in the results.
func controlsJSON(c *shaper.Controls) string {
	ctls, _ := c.Since(0)
	if ctls == nil {
		ctls = []shaper.Control{}
	}
	b, err := json.Marshal(ctls)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// lockedWriter serializes writes from the progress loop, the watcher and
// the control API.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// writeControls prints a run's control events under its report, one a
// line at its schedule offset: the changes on the run's timeline.
func writeControls(w io.Writer, ctls []shaper.Control) {
	if len(ctls) == 0 {
		return
	}
	fmt.Fprintf(w, "\n  control events (%d; results metadata %s)\n", len(ctls), MetaControls)
	for _, c := range ctls {
		fmt.Fprintf(w, "    %s\n", c)
	}
}

// controlsOf returns the control events recorded in the metadata of
// results files (the first file that has them).
func controlsOf(paths []string) ([]shaper.Control, error) {
	files, err := eventlog.Files(paths, eventlog.Range{})
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		info, err := eventlog.Stat(f)
		if err != nil {
			return nil, err
		}
		raw, ok := info.Metadata[MetaControls]
		if !ok {
			continue
		}
		var ctls []shaper.Control
		if err := json.Unmarshal([]byte(raw), &ctls); err != nil {
			return nil, fmt.Errorf("%s: metadata %s: %v", f, MetaControls, err)
		}
		return ctls, nil
	}
	return nil, nil
}

// ratioChanges returns the changes of the default ratio that a run's
// control events made, from its starting ratio: the report's header shows
// them. A set that leaves the ratio as it was is no change.
func ratioChanges(start float64, ctls []shaper.Control) []report.RatioChange {
	var out []report.RatioChange
	cur := start
	for _, c := range ctls {
		if c.Op != shaper.OpSet || c.Set == nil || c.Set.Ratio == nil || *c.Set.Ratio == cur {
			continue
		}
		cur = *c.Set.Ratio
		out = append(out, report.RatioChange{OffsetS: c.At.Seconds(), Ratio: cur, By: c.By})
	}
	return out
}
