package report

import (
	"context"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/internal/browser"
)

// chartCheck is injected into the page under test: once it has loaded, it
// measures every chart's drawn paths in the browser's own layout and writes
// the result, with any console.error call and script error, into the DOM.
const chartCheck = `<script>
(function () {
  var errs = [];
  var ce = console.error;
  console.error = function () { errs.push(Array.prototype.join.call(arguments, " ")); ce.apply(console, arguments); };
  window.addEventListener("error", function (e) { errs.push(e.message); });
  window.addEventListener("load", function () {
    var charts = [];
    document.querySelectorAll("svg.chart").forEach(function (svg) {
      var drawn = 0, box = svg.getBoundingClientRect();
      svg.querySelectorAll("path.line").forEach(function (p) { if (p.getTotalLength() > 0) drawn++; });
      charts.push({id: svg.id, drawn: drawn, width: box.width, height: box.height,
                   markers: svg.querySelectorAll("g.marker").length});
    });
    var out = document.createElement("pre");
    out.id = "surge-check";
    out.textContent = JSON.stringify({charts: charts, errors: errs,
      pageErrors: document.documentElement.getAttribute("data-js-errors") || ""});
    document.body.appendChild(out);
  });
})();
</script>`

type browserCheck struct {
	Charts []struct {
		ID            string
		Drawn         int
		Width, Height float64
		Markers       int
	}
	Errors     []string
	PageErrors string
}

// chromium returns a headless browser for the test, or skips it loudly
// when there is none (and fails in CI, where scripts/install-chromium.sh
// must have installed one).
func chromium(t *testing.T) *browser.Browser {
	t.Helper()
	path, err := browser.Find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("SKIPPED, NOT RUN: %v", err)
	}
	return &browser.Browser{Path: path, ProfileDir: t.TempDir(), Offline: true, Width: 1280, Height: 2600}
}

// TestHTMLInChromium opens the HTML report of a demo-like run (the golden
// run: a spike, a generator that falls behind, errors of several classes)
// in headless Chromium with the network cut off, and checks that every
// chart drew its lines and markers and no script failed. The screenshot is
// kept in the test's artifact directory (go test -artifacts).
func TestHTMLInChromium(t *testing.T) {
	b := chromium(t)
	dir := t.TempDir()
	page := strings.Replace(string(goldenHTML(t)), "</body>", chartCheck+"</body>", 1)
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dom, log, err := b.DumpDOM(ctx, "file://"+file, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<pre id="surge-check">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the check script did not run; DOM ends %q\nlog:\n%s", dom[max(0, len(dom)-500):], log)
	}
	var got browserCheck
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
		t.Fatalf("check result %q: %v", m[1], err)
	}
	if len(got.Charts) != 7 {
		t.Errorf("charts in the page = %d; want 7", len(got.Charts))
	}
	for _, c := range got.Charts {
		if c.Drawn == 0 || c.Width < 100 || c.Height < 100 {
			t.Errorf("chart %s: %d drawn paths, %gx%g px; want paths drawn in a visible chart", c.ID, c.Drawn, c.Width, c.Height)
		}
		if c.Markers == 0 {
			t.Errorf("chart %s: no event marker", c.ID)
		}
	}
	if len(got.Errors) > 0 || got.PageErrors != "" {
		t.Errorf("script errors: %q %q", got.Errors, got.PageErrors)
	}
	if errs := browser.ConsoleErrors(log); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	shot := filepath.Join(t.ArtifactDir(), "report.png")
	if _, err := b.Screenshot(ctx, "file://"+file, shot, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
}
