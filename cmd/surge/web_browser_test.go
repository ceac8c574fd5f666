package main

import (
	"context"
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
// (The ratio and pause controls do not exist on this engine.)
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
