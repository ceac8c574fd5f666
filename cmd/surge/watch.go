package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.yaml.in/yaml/v3"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/shaper"
)

// watchDebounce is how long the watcher waits after a change to the config
// file before it reads it: editors write in several steps (truncate, write,
// rename, remove and recreate).
const watchDebounce = 100 * time.Millisecond

// configWatcher reloads the shaping of a live run from its config file. It
// watches the file's directory, not the file, so an editor's
// remove-and-recreate (or rename over it) is seen as a change of the file.
// A reload parses the file, builds the settings (the shape block, the
// file's replay.ratio, the --ratio-for classes first) and hands them to the
// run as one control event that replaces the shaping whole; a bad file is
// reported with every error and the running shaping stays.
type configWatcher struct {
	file  string
	live  *replay.Live
	flags []shaper.ClassSpec // --ratio-for classes, first
	ratio float64            // the run's starting ratio, when the file has none
	log   io.Writer
	last  string // JSON of the settings last applied

	sessions  map[string]shaper.SetSpec // the run's session sets (collected at its start)
	startKeys map[string]string         // the file's other keys as last seen (restartOnly)
	gone      bool                      // the file was removed (said once)
}

// run watches until ctx ends.
func (w *configWatcher) run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer fw.Close()
	dir := filepath.Dir(w.file)
	if err := fw.Add(dir); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	name := filepath.Clean(w.file)
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if filepath.Clean(ev.Name) != name {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(watchDebounce)
			} else {
				timer.Reset(watchDebounce)
			}
			fire = timer.C
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			fmt.Fprintf(w.log, "surge: watch %s: %v\n", w.file, err)
		case <-fire:
			fire = nil
			w.reload()
		}
	}
}

// reload reads the file and applies it, or says why not: a removed or
// empty file (an editor between its steps) and a bad one keep the running
// shaping, and a change of keys that only apply at the start (the window,
// the target, the session sets) is said to need a restart.
func (w *configWatcher) reload() {
	data, err := os.ReadFile(w.file)
	if os.IsNotExist(err) {
		if !w.gone {
			fmt.Fprintf(w.log, "surge: config %s: removed; the run keeps its shaping (the file is read again when it is back)\n", w.file)
		}
		w.gone = true
		return
	}
	w.gone = false
	if err != nil {
		fmt.Fprintf(w.log, "surge: config %s: not applied: %v (the run keeps its shaping)\n", w.file, err)
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		fmt.Fprintf(w.log, "surge: config %s: empty (a save in progress?): not applied, the run keeps its shaping\n", w.file)
		return
	}
	set, err := w.settings(data)
	if err == nil {
		w.restartOnly(data)
		b, _ := json.Marshal(set)
		if string(b) == w.last {
			return // nothing of the shaping changed
		}
		var ctl shaper.Control
		if ctl, err = w.live.Set(set, true, "file"); err == nil {
			w.last = string(b)
			fmt.Fprintf(w.log, "surge: config %s: applied at +%v\n", w.file, ctl.At.Round(time.Millisecond))
			return
		}
	}
	fmt.Fprintf(w.log, "surge: config %s: not applied, the run keeps its shaping:\n  %v\n", w.file, strings.ReplaceAll(err.Error(), "\n", "\n  "))
}

// settings builds the run's shaping from the file's bytes: the shape block
// (its errors with their lines), the file's replay.ratio (else the
// starting ratio), the --ratio-for classes first, checked against the
// run's session sets.
func (w *configWatcher) settings(data []byte) (shaper.Settings, error) {
	doc, err := readShapeDoc(w.file, data)
	if err != nil {
		return shaper.Settings{}, err
	}
	set, errs := doc.settings()
	if len(errs) > 0 {
		return set, errors.Join(errs...)
	}
	ratio := w.ratio
	var top struct {
		Replay map[string]any `yaml:"replay"`
	}
	if err := yaml.Unmarshal(data, &top); err != nil {
		return set, fmt.Errorf("config %s: %v", w.file, err)
	}
	for k, r := range top.Replay {
		if !strings.EqualFold(k, "ratio") {
			continue
		}
		f, ok := r.(float64)
		if i, isInt := r.(int); isInt {
			f, ok = float64(i), true
		}
		if !ok {
			return set, fmt.Errorf("config %s: replay.ratio: %v is not a number", w.file, r)
		}
		ratio = f
	}
	set.Ratio = &ratio
	set.Ratios = append(append([]shaper.ClassSpec(nil), w.flags...), set.Ratios...)
	doc.flags = len(w.flags)
	if err := loadContentFile(&set); err != nil {
		return set, err
	}
	// Checked as the run has it: its session sets were collected at the
	// start, and a reload cannot change them (restartOnly says so).
	set.Sessions = w.sessions
	if errs := doc.wrap(set.Validate()); len(errs) > 0 {
		return set, errors.Join(errs...)
	}
	if !set.Shaped() && ratio == 0 {
		return set, fmt.Errorf("config %s: replay.ratio 0 with no classes schedules nothing (surge ctl pause holds a run)", w.file)
	}
	set.Sessions, set.Regions = nil, nil // the run keeps its own (restartOnly)
	return set, nil
}

// restartOnly reports the keys of the file, other than the shaping, that
// changed since the run started (or since last reported): they apply only
// at a start, so the run ignores them, and says so once per change.
func (w *configWatcher) restartOnly(data []byte) {
	now := startKeys(data)
	if w.startKeys == nil {
		w.startKeys = now
		return
	}
	var changed []string
	for k, v := range now {
		if old, ok := w.startKeys[k]; !ok || old != v {
			changed = append(changed, k)
		}
	}
	for k := range w.startKeys {
		if _, ok := now[k]; !ok {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return
	}
	sort.Strings(changed)
	fmt.Fprintf(w.log, "surge: config %s: %s changed: needs a restart, ignored (only shape: and replay.ratio apply to a running replay)\n", w.file, strings.Join(changed, ", "))
	w.startKeys = now
}

// startKeys flattens a config's keys other than the live ones (shape
// except its session sets and region mix, replay.ratio) to "replay.speed" → its value as
// YAML, for restartOnly.
func startKeys(data []byte) map[string]string {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			b, _ := yaml.Marshal(v)
			out[prefix] = string(b)
			return
		}
		for k, x := range m {
			key := strings.ToLower(k)
			if prefix != "" {
				key = prefix + "." + key
			}
			switch {
			case key == "replay.ratio":
			case key == "shape":
				if sm, ok := x.(map[string]any); ok {
					for sk, sv := range sm {
						// Collected or compiled at the start: a reload
						// keeps them.
						if k := strings.ToLower(sk); k == "sessions" || k == "regions" {
							walk("shape."+k, sv)
						}
					}
				}
			default:
				walk(key, x)
			}
		}
	}
	walk("", doc)
	return out
}

// initial returns the JSON of the run's starting shaping as a reload would
// build it, so a save that changes nothing of it is not a control event,
// and notes the file's other keys.
func (w *configWatcher) initial(s shaper.Settings) string {
	w.sessions = s.Sessions
	data, err := os.ReadFile(w.file)
	if err != nil {
		return ""
	}
	w.startKeys = startKeys(data)
	set, err := w.settings(data)
	if err != nil {
		return ""
	}
	b, _ := json.Marshal(set)
	return string(b)
}
