package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
)

// TestRunStartShape: surge run start --config takes the config's shape
// block into the run spec (shape.ratio as the run's ratio), refuses a bad
// one with its file and line, and surge run shape exit refuses a class or
// set the run does not have (exit 2) and takes one it has.
func TestRunStartShape(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	capture := kafkatest.Topic(t, brokers, 2, "")
	kafkatest.Produce(t, capture, 0, 50)
	tp := fleetTopics(t, brokers, 0) // no agents: the run is only published
	dir := t.TempDir()
	conf := filepath.Join(dir, "run.yaml")
	os.WriteFile(conf, []byte(`shape:
  ratio: 2
  ratios:
    - {name: live, match: "path=/live/**", ratio: 10}
  sessions:
    home: {match: "path=/api/v1/home"}
  exits:
    - {at: "+1m", fraction: 0.2, class: live, to: home, within: 30s}
`), 0o644)
	base := []string{"--brokers", strings.Join(brokers, ","), "--control-topic", tp.Control, "--results-topic", tp.Results}
	start := func(run, config string) error {
		args := append([]string{"run", "start"}, base...)
		_, _, err := surge(t, append(args, "--run", run, "--from", capture.String(), "--target", "http://127.0.0.1:9",
			"--start-at", "+1h", "--config", config)...)
		return err
	}
	if err := start("run-shaped", conf); err != nil {
		t.Fatalf("run start --config: %v", err)
	}
	st, err := tp.State(context.Background(), "run-shaped")
	if err != nil {
		t.Fatal(err)
	}
	sh := st.Spec.Shape
	if sh == nil || len(sh.Ratios) != 1 || sh.Ratios[0].Name != "live" || len(sh.Exits) != 1 || sh.Exits[0].To != "home" || len(sh.Sessions) != 1 || sh.Ratio != nil || st.Spec.Ratio != 2 {
		t.Errorf("spec: ratio %v, shape %+v; want ratio 2, the class, the set and the exit", st.Spec.Ratio, sh)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("shape:\n  exits:\n    - {at: \"+1m\", fraction: 0.2, to: nohome}\n"), 0o644)
	if err := start("run-bad", bad); exitCode(err) != exitUsage || !strings.Contains(err.Error(), `bad.yaml:3: shape.exits[0].to: no session set "nohome"`) {
		t.Errorf("run start with an exit to no set: exit %d (%v); want usage naming file, line and key", exitCode(err), err)
	}

	shape := func(args ...string) error {
		a := append([]string{"run", "shape"}, base...)
		_, _, err := surge(t, append(a, args...)...)
		return err
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"exit", "run-shaped", "0.2", "--class", "lvie"}, `exit.class: no class "lvie" (did you mean "live"?)`}, // a typo
		{[]string{"exit", "run-shaped", "0.2", "--to", "away"}, `exit.to: no session set "away" (sets: home)`},           // no such set
		{[]string{"exit", "run-shaped", "1.5"}, "fraction 1.5 is not between 0 and 1"},                                   // out of range
	} {
		if err := shape(tt.args...); exitCode(err) != exitUsage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run shape %s: exit %d (%v); want usage saying %q", strings.Join(tt.args, " "), exitCode(err), err, tt.want)
		}
	}
	if err := shape("exit", "run-shaped", "0.2", "--class", "live", "--to", "home", "--within", "10s"); err != nil {
		t.Fatalf("run shape exit to the run's set: %v", err)
	}
	st, err = tp.State(context.Background(), "run-shaped")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Shape) != 1 || st.Shape[0].Exit == nil || st.Shape[0].Exit.To != "home" {
		t.Errorf("state shape events %+v; want the exit to home", st.Shape)
	}
}
