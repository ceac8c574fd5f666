package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/internal/browser"
)

// TestLiveViewInChromium drives the live view of a running surge demo in
// headless Chromium over the DevTools protocol: the page draws its 7
// charts, redraws them from the event stream while the run runs, stops the
// run from its own button, and logs no console error or exception; a
// screenshot of the running page is kept in the test's artifact directory.
// Its pause, ratio and resume controls change the run through the control
// API: the page and GET /control/v1/run show it paused, then at ratio 2.
func TestLiveViewInChromium(t *testing.T) {
	path, err := browser.Find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("SKIPPED, NOT RUN: %v", err)
	}
	b := &browser.Browser{Path: path, ProfileDir: t.TempDir(), Offline: true, Width: 1280, Height: 1800}
	capture := sampleCapture(t)
	addr := freeAddr(t)
	base := "http://" + addr + "/"
	errc := make(chan error, 1)
	go func() {
		_, _, err := surge(t, "demo", "--from", capture, "--ratio", "1", "--speed", "30", "--progress", "none",
			"--web", addr, "--web-linger", "2m")
		errc <- err
	}()
	defer func() {
		for { // end the run if it still runs, then the linger
			stopRun(t, base)
			select {
			case <-errc:
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		if _, err := getStatus(base); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the live view never listened")
		}
		time.Sleep(100 * time.Millisecond)
	}
	p, err := b.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Navigate(ctx, base); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		var s string
		p.Eval(ctx, `(document.getElementById("live-state")||{}).textContent||""`, &s)
		return s
	}
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		for {
			if s := state(); ok(s) {
				return s
			}
			if ctx.Err() != nil {
				t.Fatalf("live state never %s (last %q)", what, state())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("running", func(s string) bool { return strings.HasPrefix(s, "running") })
	const drawn = `Array.from(document.querySelectorAll("svg.chart")).map(function (s) {
		return Array.from(s.querySelectorAll("path.line")).filter(function (p) { return p.getTotalLength() > 0; }).length; })`
	const ratePath = `document.querySelector("#rate path.line").getAttribute("d")`
	var counts []int
	var before, after string
	if err := p.Eval(ctx, drawn, &counts); err != nil {
		t.Fatal(err)
	}
	if len(counts) != 7 {
		t.Errorf("charts = %d; want 7", len(counts))
	}
	for i, n := range counts {
		if n == 0 {
			t.Errorf("chart %d: no drawn path", i)
		}
	}
	p.Eval(ctx, ratePath, &before)
	time.Sleep(2500 * time.Millisecond)
	p.Eval(ctx, ratePath, &after)
	if before == after || !strings.HasPrefix(state(), "running") {
		t.Errorf("the rate chart did not change in 2.5 s of a running run (state %q)", state())
	}
	var badge string
	p.Eval(ctx, `document.getElementById("verdict").textContent`, &badge)
	if !strings.HasPrefix(badge, "RUNNING") {
		t.Errorf("verdict badge mid-run = %q; want RUNNING…", badge)
	}
	shot := filepath.Join(t.ArtifactDir(), "live.png")
	if err := p.Screenshot(ctx, shot); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	// Pause from the page: the page shows it, and so does the control API.
	ctlState := func() string {
		var s string
		p.Eval(ctx, `(document.getElementById("control-state")||{}).getAttribute("data-state")||""`, &s)
		return s
	}
	var shown bool
	p.Eval(ctx, `document.getElementById("live-controls").style.display == "inline"`, &shown)
	if !shown {
		t.Fatal("the live page shows no pause and ratio controls")
	}
	click := func(id string) {
		t.Helper()
		if err := p.Eval(ctx, `document.getElementById("`+id+`").click()`, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitRun := func(what string, ok func(runState) bool) runState {
		t.Helper()
		for {
			st := controlRun(t, base)
			if ok(st) {
				return st
			}
			if ctx.Err() != nil {
				t.Fatalf("the run never %s (last %+v, page %q)", what, st, ctlState())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	click("btn-pause")
	waitRun("paused", func(st runState) bool { return st.State == "paused" })
	for ctlState() != "paused" && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	waitFor("paused on the state line", func(s string) bool { return strings.HasPrefix(s, "paused at") })
	if err := p.Screenshot(ctx, filepath.Join(t.ArtifactDir(), "live-paused.png")); err != nil {
		t.Fatal(err)
	}
	// The ratio from the page, then resume.
	if err := p.Eval(ctx, `(function(){var i=document.getElementById("ratio-input"); i.value="2"; i.dispatchEvent(new Event("input")); return true;})()`, nil); err != nil {
		t.Fatal(err)
	}
	click("btn-ratio")
	waitRun("at ratio 2", func(st runState) bool { return st.Settings.Ratio != nil && *st.Settings.Ratio == 2 })
	click("btn-resume")
	waitRun("resumed", func(st runState) bool { return st.State == "running" })
	for ctlState() != "running" && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	// surge ctl reaches the same control API through the live view.
	if out, _, err := surge(t, "ctl", "--addr", base+"control", "get"); err != nil || !strings.Contains(out, `"state": "running"`) {
		t.Errorf("surge ctl --addr %scontrol get = %v:\n%s", base, err, out)
	}
	// Stop the run from the page.
	if err := p.Eval(ctx, `document.getElementById("btn-stop").click()`, nil); err != nil {
		t.Fatal(err)
	}
	final := waitFor("ended", func(s string) bool { return s == "run ended" })
	var pageErrs string
	p.Eval(ctx, `document.documentElement.getAttribute("data-js-errors")||""`, &pageErrs)
	if errs := p.Errors(); len(errs) > 0 || pageErrs != "" {
		t.Errorf("page errors: %q %q", errs, pageErrs)
	}
	if ended, err := getStatus(base); err != nil || !ended {
		t.Errorf("status after the page's stop: ended %v, %v (state %q)", ended, err, final)
	}
	// The run reports the stop as an abort from the live view, in the
	// page's summary (updated by the last event) and on a reload.
	var summary string
	p.Eval(ctx, `document.getElementById("summary").textContent`, &summary)
	for _, page := range []string{summary, get(t, base)} {
		if !strings.Contains(page, "stopped from the live view") {
			t.Errorf("the final page does not say the run was stopped from the live view:\n%.400s", page)
		}
	}
}

// runState is what the test reads of GET /v1/run (replay.RunState).
type runState struct {
	State    string `json:"state"`
	Settings struct {
		Ratio *float64 `json:"ratio"`
	} `json:"settings"`
}

// controlRun reads the run's state from the live view's control API.
func controlRun(t *testing.T, base string) runState {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"control/v1/run", nil)
	req.Header.Set("X-Surge-Control", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return runState{}
	}
	defer resp.Body.Close()
	var st runState
	json.NewDecoder(resp.Body).Decode(&st)
	return st
}
