package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/internal/browser"
)

// TestLiveViewInChromium opens the live view of a running surge demo in
// headless Chromium and checks that the page drew its 7 charts and applied
// updates from the event stream (its state line says the run is running or
// ended, which only an event writes), with no script error; the screenshot
// is kept in the test's artifact directory. (The ratio and pause controls
// do not exist on this engine; the stop control is tested in
// TestWebMetricsDuringRun.)
func TestLiveViewInChromium(t *testing.T) {
	path, err := browser.Find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("SKIPPED, NOT RUN: %v", err)
	}
	b := &browser.Browser{Path: path, ProfileDir: t.TempDir(), Offline: true, Width: 1280, Height: 2400}
	capture := sampleCapture(t)
	addr := freeAddr(t)
	base := "http://" + addr + "/"
	errc := make(chan error, 1)
	go func() {
		_, _, err := surge(t, "demo", "--from", capture, "--to", "+20m", "--ratio", "1", "--speed", "60", "--progress", "none",
			"--web", addr, "--web-linger", "60s")
		errc <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := getStatus(base); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the live view never listened")
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dom, log, err := b.DumpDOM(ctx, base, 4000)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(dom, `<svg class="chart"`); n != 7 {
		t.Errorf("live page: %d charts; want 7", n)
	}
	if n := len(regexp.MustCompile(`class="line"[^>]* d="M[0-9]`).FindAllString(dom, -1)); n < 7 {
		t.Errorf("live page: %d drawn paths; want at least one a chart", n)
	}
	state := regexp.MustCompile(`<span id="live-state">([^<]*)</span>`).FindStringSubmatch(dom)
	if state == nil || !(strings.HasPrefix(state[1], "running") || strings.HasPrefix(state[1], "ended") || state[1] == "run ended") {
		t.Errorf("live state = %q; want one an event wrote (running…/ended…)", state)
	}
	if regexp.MustCompile(`<html[^>]*data-js-errors`).MatchString(dom) {
		t.Errorf("script errors in the live page")
	}
	if errs := browser.ConsoleErrors(log); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	shot := filepath.Join(t.ArtifactDir(), "live.png")
	if _, err := b.Screenshot(ctx, base, shot, 3000); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	// Stop the run if it still runs, then the linger.
	for {
		stopRun(t, base)
		select {
		case err := <-errc:
			if err != nil {
				t.Logf("demo: %v", err)
			}
			return
		case <-time.After(2 * time.Second):
		}
	}
}
