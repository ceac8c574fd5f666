package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// reload reads the file and applies it, or says why not.
func (w *configWatcher) reload() {
	data, err := os.ReadFile(w.file)
	if os.IsNotExist(err) {
		return // removed; its recreation is a change of its own
	}
	if err != nil {
		fmt.Fprintf(w.log, "surge: config %s: not applied: %v (the run keeps its shaping)\n", w.file, err)
		return
	}
	set, err := w.settings(data)
	if err == nil {
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
	fmt.Fprintf(w.log, "surge: config %s: not applied, the run keeps its shaping:\n  %v\n", w.file, err)
}

// settings builds the run's shaping from the file's bytes.
func (w *configWatcher) settings(data []byte) (shaper.Settings, error) {
	var doc struct {
		Replay map[string]any `yaml:"replay"`
		Shape  map[string]any `yaml:"shape"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return shaper.Settings{}, err
	}
	var set shaper.Settings
	if doc.Shape != nil {
		b, err := json.Marshal(doc.Shape)
		if err != nil {
			return set, err
		}
		if set, err = shaper.DecodeSettings(b); err != nil {
			return set, err
		}
	}
	ratio := w.ratio
	if r, ok := doc.Replay["ratio"]; ok {
		f, ok := r.(float64)
		if i, isInt := r.(int); isInt {
			f, ok = float64(i), true
		}
		if !ok {
			return set, fmt.Errorf("replay.ratio: %v is not a number", r)
		}
		ratio = f
	}
	set.Ratio = &ratio
	set.Ratios = append(append([]shaper.ClassSpec(nil), w.flags...), set.Ratios...)
	if err := loadContentFile(&set); err != nil {
		return set, err
	}
	set.Sessions = nil // collected before the run: a reload cannot change them
	ctl := shaper.Control{Op: shaper.OpSet, Set: &set, Replace: true}
	return set, ctl.Validate()
}

// initial returns the JSON of the run's starting shaping as a reload would
// build it, so a save that changes nothing of it is not a control event.
func (w *configWatcher) initial(s shaper.Settings) string {
	data, err := os.ReadFile(w.file)
	if err != nil {
		return ""
	}
	set, err := w.settings(data)
	if err != nil {
		return ""
	}
	b, _ := json.Marshal(set)
	return string(b)
}
