// Package browser runs Debian's headless Chromium for the tests of the HTML
// report and the live view: it loads a page with the network cut off (a
// proxy that refuses, no host resolves), dumps the DOM after the page's
// scripts ran, and takes screenshots. scripts/install-chromium.sh installs
// the browser.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// ErrNoChromium means no chromium binary is on the PATH.
var ErrNoChromium = errors.New("browser: chromium not found on the PATH (scripts/install-chromium.sh installs it)")

// Find returns the path of the chromium binary, or ErrNoChromium.
func Find() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Browser is one headless Chromium with its own throw-away profile.
type Browser struct {
	// Path is the chromium binary; ProfileDir its --user-data-dir (a
	// fresh temporary directory).
	Path, ProfileDir string
	// Offline cuts the page off every network but loopback: a proxy that
	// refuses for anything else, and no host name resolves.
	Offline bool
	// Width, Height are the window size in CSS pixels (zero: 1280 × 2000).
	Width, Height int
}

func (b *Browser) args(extra ...string) []string {
	w, h := b.Width, b.Height
	if w == 0 {
		w, h = 1280, 2000
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--no-first-run", "--no-default-browser-check", "--mute-audio",
		"--hide-scrollbars", "--user-data-dir=" + b.ProfileDir,
		fmt.Sprintf("--window-size=%d,%d", w, h),
		"--enable-logging=stderr", "--v=0",
	}
	if b.Offline {
		args = append(args, "--proxy-server=127.0.0.1:9", // loopback bypasses the proxy implicitly
			"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1")
	}
	return append(args, extra...)
}

// run runs chromium with args and returns its stdout and stderr.
func (b *Browser) run(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, b.Path, b.args(args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "HOME="+b.ProfileDir)
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("browser: %s: %w\n%s", b.Path, err, tail(errb.String(), 2000))
	}
	return out.String(), errb.String(), err
}

// DumpDOM loads url, lets its scripts run for budgetMS of virtual time, and
// returns the serialized DOM and chromium's log (stderr).
func (b *Browser) DumpDOM(ctx context.Context, url string, budgetMS int) (dom, log string, err error) {
	args := []string{"--dump-dom"}
	if budgetMS > 0 {
		args = append(args, fmt.Sprintf("--virtual-time-budget=%d", budgetMS))
	}
	return b.run(ctx, append(args, url)...)
}

// Screenshot loads url and writes a PNG of its window to path.
func (b *Browser) Screenshot(ctx context.Context, url, path string, budgetMS int) (log string, err error) {
	args := []string{"--screenshot=" + path}
	if budgetMS > 0 {
		args = append(args, fmt.Sprintf("--virtual-time-budget=%d", budgetMS))
	}
	_, log, err = b.run(ctx, append(args, url)...)
	if err == nil {
		if fi, serr := os.Stat(path); serr != nil || fi.Size() == 0 {
			err = fmt.Errorf("browser: no screenshot at %s (%v)\n%s", path, serr, tail(log, 2000))
		}
	}
	return log, err
}

// consoleError matches what chromium logs (with --enable-logging=stderr)
// for a script error or a console.error call of the page.
var consoleError = regexp.MustCompile(`(?i)(Uncaught|CONSOLE\(\d+\).*(error|failed)|:ERROR:CONSOLE|console\.error)`)

// ConsoleErrors returns the lines of a chromium log that report errors of
// the page's scripts.
func ConsoleErrors(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if consoleError.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
