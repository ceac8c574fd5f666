package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/demo"
)

// TestHelpExamplesRun runs every "surge ..." line of every command's
// --help examples as written, in a directory holding the files they name
// (made from the bundled sample), against loopback. What the test changes,
// and why:
//
//   - a replay or demo gets --dry-run (it plans the whole window and checks
//     the target, but a 30-minute window is not replayed in a test), and its
//     target (flag or config) is a demo platform on a free loopback port;
//   - an example config's window (for a two-hour final) becomes the
//     sample's first 10 minutes;
//   - demo serve listens on a free port (not 8080) for 100 ms;
//   - capture proxy listens on free ports for 100 ms and writes under out/;
//   - lines that need a Kafka broker (kafka://, --brokers) are left to the
//     Kafka tests, which run them against the real broker; surge ctl lines
//     need a running replay and are left to TestCtl.
//
// A line passes when surge exits 0, or with a gate's code (3 to 6: the run
// happened and was judged); a usage error (2) or a failure (1) fails it.
func TestHelpExamplesRun(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	fx := exampleFixtures(t)
	srv, err := demo.Start(demo.Config{AcceptEmptyLogin: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	root := newRootCommand()
	ran := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, line := range exampleLines(c.Example) {
			args, err := shellWords(line)
			if err != nil {
				t.Errorf("%s: example %q: %v", c.CommandPath(), line, err)
				continue
			}
			if len(args) == 0 || args[0] != "surge" {
				continue // make demo, export ...
			}
			if strings.HasPrefix(c.CommandPath(), "surge kafka") ||
				slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "kafka://") || a == "--brokers" }) {
				t.Logf("%s: left to the Kafka tests: %s", c.CommandPath(), line)
				continue
			}
			if c.CommandPath() == "surge ctl" { // needs a running replay: TestCtl
				t.Logf("%s: left to TestCtl: %s", c.CommandPath(), line)
				continue
			}
			args = adaptExample(args[1:], srv.URL())
			ran++
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Chdir(fx.dir(t, args))
				args := globArgs(t, args)
				_, errs, err := surge(t, args...)
				if code := exitOf(err); code == exitFailure || code == exitUsage {
					t.Errorf("surge %s (from the help of %s): exit %d: %v\n%s", strings.Join(args, " "), c.CommandPath(), code, err, errs)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// The README's commands, block by block.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readmeCmd := &cobra.Command{Use: "README.md", Example: readmeCommands(string(readme))}
	walk(readmeCmd)
	if ran < 20 {
		t.Errorf("ran %d examples; the help should have more", ran)
	}
}

// readmeCommands returns the lines of the README's ```sh blocks, with the
// comments after a command removed.
func readmeCommands(md string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in:
			if i := strings.Index(l, " # "); i >= 0 {
				l = l[:i]
			}
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// exampleLines splits an Example into command lines, joining those ending
// with a backslash with the next, and dropping a pipe or a trailing &.
func exampleLines(ex string) []string {
	var out []string
	var cur string
	for _, l := range strings.Split(ex, "\n") {
		l = strings.TrimSpace(l)
		if c, ok := strings.CutSuffix(l, "\\"); ok {
			cur += c + " "
			continue
		}
		l = cur + l
		cur = ""
		if i := strings.Index(l, " | "); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSuffix(strings.TrimSpace(l), "&")
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// shellWords splits a command line as a POSIX shell does for the forms the
// examples use: '...' (literal), "..." (backslash escapes \" and \\), and
// backslash outside quotes.
func shellWords(s string) ([]string, error) {
	var words []string
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if in {
				words, in = append(words, b.String()), false
				b.Reset()
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed '")
			}
			b.WriteString(s[i+1 : i+1+j])
			i, in = i+1+j, true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == '$') {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`unclosed "`)
			}
			in = true
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			in = true
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words, nil
}

// globArgs expands shell patterns (edge-*.log.gz) in the working
// directory, as the shell would before surge sees them.
func globArgs(t *testing.T, args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.ContainsAny(a, "*?[") || strings.Contains(a, "{") {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil || len(m) == 0 {
			out = append(out, a) // a shell passes an unmatched pattern on
			continue
		}
		out = append(out, m...)
	}
	return out
}

// adaptExample makes the changes TestHelpExamplesRun lists.
func adaptExample(args []string, target string) []string {
	args = slices.Clone(args)
	if len(args) >= 2 && args[0] == "demo" && args[1] == "serve" {
		// Flags given twice: the last wins.
		return append(args, "--addr", "127.0.0.1:0", "--for", "100ms")
	}
	if len(args) >= 2 && args[0] == "capture" && args[1] == "proxy" {
		return append(args, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--for", "100ms", "-o", "out/capture-proxy")
	}
	if args[0] == "replay" || args[0] == "demo" {
		for i, a := range args {
			if a == "--target" && i+1 < len(args) {
				args[i+1] = target
			}
		}
		if args[0] == "replay" && !slices.Contains(args, "--target") {
			// Over the config's, which also allows it.
			args = append(args, "--target", target, "--allow", "127.0.0.1")
		}
		if slices.Contains(args, "--config") && !slices.Contains(args, "--window-from") {
			// The example configs are written for a two-hour final; the
			// bundled sample is 30 minutes.
			args = append(args, "--window-from", "0s", "--window-to", "10m")
		}
		args = append(args, "--dry-run")
	}
	return args
}

// fixtures are the files the examples name, made once.
type fixtures struct {
	root  string            // where they are
	files map[string]string // name in an example's directory → path
}

func exampleFixtures(t *testing.T) *fixtures {
	t.Helper()
	fx := &fixtures{root: t.TempDir(), files: map[string]string{}}
	capture := sampleCapture(t)
	for _, name := range []string{"capture.parquet", "final.parquet", "out/demo/match-night.parquet"} {
		fx.files[name] = capture
	}
	final := filepath.Join(fx.root, "final")
	mustSurge(t, "import", "nginx", "--log-format", "@"+sample+"match-night.format", sample+"match-night.log.gz", "-o", final)
	fx.files["final"] = final
	fx.files["captures/final-2025"] = final // configs/event-3x.yaml's capture
	fx.files["captures/yesterday"] = final  // the daily baseline's
	fx.files["captures/2026-11-21"] = final // surge profile build's
	prof := filepath.Join(fx.root, "profile")
	mustSurge(t, "profile", "build", final, "-o", prof)
	for _, name := range []string{"profiles/final", "profiles/final-2025", "profiles/sat", "a", "b"} {
		fx.files[name] = prof
	}
	results := filepath.Join(fx.root, "results.parquet")
	mustSurge(t, "demo", "--from", capture, "--window-to", "1m", "--speed", "30", "--progress", "none", "--results", results)
	for _, name := range []string{"results.parquet", "base.parquet", "new.parquet", "out/baseline/results.parquet", "out/today/results.parquet", "base/results.parquet", "today/results.parquet"} {
		fx.files[name] = results
	}
	configs, _ := filepath.Abs("../../configs")
	fx.files["configs"] = configs
	// Inputs of the import examples, from the combined sample's first lines.
	lines := readGzipLines(t, sample+"match-night-combined.log.gz", 300)
	alb, err := os.ReadFile("../../capture/testdata/alb/access.log")
	if err != nil {
		t.Fatal(err)
	}
	fx.write(t, "access.log", lines, "", false)
	fx.write(t, "edge-1.log.gz", lines[:150], "", true) // edge-*.log.gz
	fx.write(t, "edge-2.log.gz", lines[150:], "", true)
	fx.write(t, "123456789012_elasticloadbalancing_eu-west-1_app.web.0123_20261121T1955Z_203.0.113.9_x.log.gz", strings.Split(strings.TrimSpace(string(alb)), "\n"), "", true)
	fx.write(t, "access.log.gz", lines, " 0.012", true)   // + $request_time
	fx.write(t, "access_log", lines, "", false)           // Apache's combined
	fx.write(t, "ssl_access_log", lines, " 12000", false) // + %D
	combined := []string{`log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';`}
	fx.write(t, "format.txt", combined, "", false)
	fx.write(t, "nginx-format.txt", combined, "", false)
	fx.write(t, "alb-logs/123456789012_elasticloadbalancing_eu-west-1_app.web_20261121T1955Z_1.log.gz", strings.Split(strings.TrimSpace(string(alb)), "\n"), "", true)
	fx.files["events.jsonl"], _ = filepath.Abs("../../capture/testdata/jsonl/export.jsonl")
	fx.files["session.har"], _ = filepath.Abs(sample + "match-night.har")
	fx.files["requests.gor"], _ = filepath.Abs(sample + "match-night.gor")
	fx.write(t, "views.csv", readGzipLines(t, sample+"views.csv.gz", 300), "", false)
	accountFixtures(t, fx) // accounts_test.go
	return fx
}

func (fx *fixtures) write(t *testing.T, name string, lines []string, suffix string, gz bool) {
	t.Helper()
	path := filepath.Join(fx.root, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w interface {
		WriteString(string) (int, error)
	} = f
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(f)
		w = bufWriter{zw}
	}
	for _, l := range lines {
		w.WriteString(l + suffix + "\n")
	}
	if zw != nil {
		zw.Close()
	}
	fx.files[name] = path
}

type bufWriter struct{ *gzip.Writer }

func (b bufWriter) WriteString(s string) (int, error) { return b.Write([]byte(s)) }

func readGzipLines(t *testing.T, path string, n int) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(lines) < n {
		lines = append(lines, sc.Text())
	}
	return lines
}

// dir returns a fresh directory with every fixture linked in, except the
// outputs the example writes (-o, --results, --summary-json, --junit).
func (fx *fixtures) dir(t *testing.T, args []string) string {
	t.Helper()
	outputs := map[string]bool{}
	for i, a := range args {
		switch a {
		case "-o", "--output", "--results", "--summary-json", "--junit":
			if i+1 < len(args) {
				outputs[strings.TrimSuffix(args[i+1], "/")] = true
			}
		}
	}
	dir := t.TempDir()
	for name, path := range fx.files {
		if outputs[name] {
			continue
		}
		link := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(path, link); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
