package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/surge-replay/surge/shaper"
)

func newCtlCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ctl get | set KEY=VALUE... | patch FILE | pause | resume | stop | exit FRACTION",
		Short: "Change a running replay: its ratio, classes, curves, exits, content list, rewrites; pause, resume, stop",
		Long: `Ctl calls the control API of a running surge replay (started with --control).
Every change is a control event the run records (results metadata surge.controls)
and applies to sessions that start from then on, within 100 ms of schedule time.

  get                 the run's state, shaping in effect and control events
  set ratio=5         change the default ratio
  patch FILE          change shaping keys: a YAML or JSON file with the keys of
                      the config's shape block (- reads standard input)
  pause | resume      hold the schedule, go on
  stop                end the schedule now
  exit FRACTION       end a fraction of the live sessions now (--class, --to, --within)`,
		Example: `  surge ctl --addr http://127.0.0.1:7357 get
  surge ctl set ratio=5
  echo '{ratios: [{match: "path=/live/**", ratio: 10}]}' | surge ctl patch -
  surge ctl exit 0.2 --class live --to home --within 30s`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := &ctlClient{addr: strings.TrimSuffix(cfg.s.Ctl.Addr, "/"), token: cfg.s.Ctl.Token, out: cmd.OutOrStdout()}
			switch args[0] {
			case "get":
				return c.call(http.MethodGet, "/v1/run", nil)
			case "set":
				body, err := ctlSet(args[1:])
				if err != nil {
					return &exitError{exitUsage, err}
				}
				return c.call(http.MethodPatch, "/v1/run", body)
			case "patch":
				if len(args) != 2 {
					return &exitError{exitUsage, fmt.Errorf("ctl patch: want one FILE (or - for standard input)")}
				}
				body, err := ctlPatch(args[1], cmd.InOrStdin())
				if err != nil {
					return &exitError{exitUsage, err}
				}
				return c.call(http.MethodPatch, "/v1/run", body)
			case "pause", "resume", "stop":
				return c.call(http.MethodPost, "/v1/run/"+args[0], nil)
			case "exit":
				if len(args) != 2 {
					return &exitError{exitUsage, fmt.Errorf("ctl exit: want the FRACTION of live sessions to end (0.2)")}
				}
				f, err := strconv.ParseFloat(args[1], 64)
				if err != nil {
					return &exitError{exitUsage, fmt.Errorf("ctl exit: fraction %q is not a number", args[1])}
				}
				if !(f >= 0 && f <= 1) {
					return &exitError{exitUsage, fmt.Errorf("ctl exit: fraction %s is not between 0 and 1 (0.2 ends a fifth of the live sessions)", args[1])}
				}
				e := shaper.ExitSpec{Fraction: f, Class: cfg.s.Ctl.Class, To: cfg.s.Ctl.To, Within: shaper.Duration(cfg.s.Ctl.Within)}
				body, _ := json.Marshal(e)
				return c.call(http.MethodPost, "/v1/run/exit", body)
			}
			return &exitError{exitUsage, fmt.Errorf("ctl: unknown action %q (get, set, patch, pause, resume, stop, exit)", args[0])}
		},
	}
	f := cmd.Flags()
	f.String("addr", "http://127.0.0.1:7357", "the control API of the run (its --control address)")
	f.String("token", "", "the run's --control-token")
	f.String("class", "", "exit: only sessions of this class")
	f.String("to", "", "exit: the set of recorded sessions the users go on with")
	f.Duration("within", 0, "exit: spread the follow-up sessions over this much schedule time")
	cfg.bindAll(cmd, "ctl")
	return cmd
}

// ctlSet turns KEY=VALUE arguments into a PATCH body; the keys known are
// ratio.
func ctlSet(args []string) ([]byte, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("ctl set: nothing to set; want KEY=VALUE (ratio=5)")
	}
	var s shaper.Settings
	for _, a := range args {
		k, val, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("ctl set: %q is not KEY=VALUE", a)
		}
		switch k {
		case "ratio":
			r, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return nil, fmt.Errorf("ctl set: ratio=%q is not a number", val)
			}
			s.Ratio = &r
		default:
			return nil, fmt.Errorf("ctl set: unknown key %q (known: ratio; use ctl patch for the others)", k)
		}
	}
	return json.Marshal(s)
}

// ctlPatch reads a YAML or JSON file of shape keys into a PATCH body,
// checking it first.
func ctlPatch(path string, stdin io.Reader) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("ctl patch: %w", err)
	}
	// The file is a shape block of its own: its errors name its lines.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("ctl patch %s: %w", path, err)
	}
	doc := &shapeDoc{what: "ctl patch", file: path, line0: 1}
	if path == "-" {
		doc.file = "(stdin)"
	}
	if len(root.Content) > 0 {
		doc.node = root.Content[0]
	}
	if _, errs := doc.settings(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// The body is the file as written: a key given empty (ratios: [])
	// is a change too.
	var v any
	if doc.node != nil {
		if err := doc.node.Decode(&v); err != nil {
			return nil, fmt.Errorf("ctl patch %s: %w", path, err)
		}
	}
	if v == nil {
		v = map[string]any{}
	}
	return json.Marshal(jsonable(v))
}

// ctlClient calls a run's control API.
type ctlClient struct {
	addr, token string
	out         io.Writer
}

// call sends one request and prints the answer; an error status is an
// error carrying the API's message.
func (c *ctlClient) call(method, path string, body []byte) error {
	req, err := http.NewRequest(method, c.addr+path, bytes.NewReader(body))
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("ctl: --addr %q: %w", c.addr, err)}
	}
	req.Header.Set("User-Agent", "surge-ctl")
	// The live view (--web) serves the control API under /control and wants
	// this header of control requests; the --control listener ignores it.
	req.Header.Set("X-Surge-Control", "1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("ctl: %w (is the replay running with --control?)", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(answer, &e) == nil && e.Error != "" {
			err := fmt.Errorf("ctl: %s %s: refused: %s (%s)", method, path, e.Error, resp.Status)
			if resp.StatusCode == http.StatusBadRequest {
				// The change itself is wrong: a usage error, as a bad
				// flag or config is.
				return &exitError{exitUsage, err}
			}
			return err
		}
		return fmt.Errorf("ctl: %s %s: %s", method, path, resp.Status)
	}
	_, err = c.out.Write(answer)
	return err
}
