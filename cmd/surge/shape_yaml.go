package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/surge-replay/surge/shaper"
)

// shapeDoc is the shape block of a YAML config file as written, with the
// line of every key, so that its errors name file, line and key:
//
//	config run.yaml:7: shape.ratios[0].ratioz: unknown key (did you mean "ratio"?)
//
// Viper's copy of the block would not do: it folds keys to lower case (a
// header name of set_headers too) and has no lines.
type shapeDoc struct {
	what  string // what the file is, for errors: "config" (or "ctl patch")
	block string // the block's own key path: "shape" ("" for a patch of shape keys)
	file  string
	node  *yaml.Node // the value of the file's shape key; nil when none
	line0 int        // the line of the shape key
	// flags is how many --ratio-for classes come before the file's
	// ratios in the settings checked (shapeSettings): ratios[i] of the
	// settings is ratios[i-flags] of the file.
	flags int
}

// readShapeDoc finds the shape block of a YAML document.
func readShapeDoc(file string, data []byte) (*shapeDoc, error) {
	d := &shapeDoc{what: "config", block: "shape", file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return d, nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if strings.EqualFold(m.Content[i].Value, "shape") {
			d.node, d.line0 = m.Content[i+1], m.Content[i].Line
		}
	}
	return d, nil
}

// settings decodes the block: every problem of keys and types
// (shaper.CheckShape), each with its line, or the settings.
func (d *shapeDoc) settings() (shaper.Settings, []error) {
	var s shaper.Settings
	if d.node == nil {
		return s, nil
	}
	var v any
	if err := d.node.Decode(&v); err != nil {
		return s, []error{fmt.Errorf("%s: %s: %v", d.at(d.line0), d.key(""), err)}
	}
	v = jsonable(v)
	if _, ok := v.(map[string]any); !ok && v != nil {
		return s, []error{fmt.Errorf("%s: %s: want a mapping of shaping keys (ratios:, curves:, exits:, …; docs/SHAPING.md)", d.at(d.line0), d.key(""))}
	}
	if errs := shaper.CheckShape(v); len(errs) > 0 {
		return s, d.wrap(errs)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s, []error{fmt.Errorf("%s: %s: %v", d.at(d.line0), d.key(""), err)}
	}
	s, err = shaper.DecodeSettings(b)
	if err != nil {
		return s, d.wrap(unjoinAll(err))
	}
	return s, nil
}

// jsonable turns what yaml.v3 decodes into what encoding/json would: times
// (an unquoted 2026-11-21T20:00:00Z) back to their text.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return v
}

// errPath finds the key path an error of the shaper starts with:
// "ratios[0].curves[1]: …", "content: …".
var errPath = regexp.MustCompile(`^([A-Za-z_][\w-]*(?:\[\d+\])*(?:\.[\w-]+(?:\[\d+\])*)*): `)

// wrap names each error with the file, the line of its key, and the key
// under shape (a --ratio-for class by its flag).
func (d *shapeDoc) wrap(errs []error) []error {
	type lined struct {
		line int
		err  error
	}
	var all []lined
	for _, err := range errs {
		out := d.wrapOne(err)
		line, _ := d.line(d.pathOf(err))
		all = append(all, lined{line, out})
	}
	// In the file's order.
	sort.SliceStable(all, func(i, j int) bool { return all[i].line < all[j].line })
	out := make([]error, len(all))
	for i, l := range all {
		out[i] = l.err
	}
	return out
}

// pathOf returns the file's key path of an error of the shaper.
func (d *shapeDoc) pathOf(err error) string {
	var ke *shaper.KeyError
	if errors.As(err, &ke) {
		p, _ := d.filePath(ke.Path)
		return p
	}
	if m := errPath.FindStringSubmatch(err.Error()); m != nil {
		p, _ := d.filePath(m[1])
		return p
	}
	return ""
}

// wrapOne names one error.
func (d *shapeDoc) wrapOne(err error) error {
	{
		path, msg := "", err.Error()
		var ke *shaper.KeyError
		if errors.As(err, &ke) {
			path, msg = ke.Path, ke.Msg
		} else if m := errPath.FindStringSubmatch(msg); m != nil {
			path, msg = m[1], msg[len(m[0]):]
		}
		path, flag := d.filePath(path)
		if flag >= 0 {
			return fmt.Errorf("--ratio-for (the %s): %s", ordinal(flag+1), msg)
		}
		line, _ := d.line(path)
		switch {
		case d.file == "":
			return fmt.Errorf("%s: %s", d.key(path), msg)
		case path != "" && line > 0:
			// A key the file does not have (a missing key) is named with
			// the line of the nearest enclosing one.
			return fmt.Errorf("%s: %s: %s", d.at(line), d.key(path), msg)
		default:
			if path != "" {
				msg = path + ": " + msg
			}
			return fmt.Errorf("%s: %s: %s", d.at(d.line0), d.key(""), msg)
		}
	}
}

// at names a line of the file: "config run.yaml:7".
func (d *shapeDoc) at(line int) string {
	if line <= 0 {
		return d.what + " " + d.file
	}
	return fmt.Sprintf("%s %s:%d", d.what, d.file, line)
}

// key names a key path as the file has it: "shape.ratios[0]".
func (d *shapeDoc) key(path string) string {
	switch {
	case d.block == "" && path == "":
		return "shape keys"
	case d.block == "":
		return path
	case path == "":
		return d.block
	}
	return d.block + "." + path
}

// filePath maps a path of the checked settings to the file's: the first
// flags classes are --ratio-for flags (flag is their index; else -1).
func (d *shapeDoc) filePath(path string) (string, int) {
	if d.flags == 0 || !strings.HasPrefix(path, "ratios[") {
		return path, -1
	}
	end := strings.IndexByte(path, ']')
	i, err := strconv.Atoi(path[len("ratios["):end])
	if err != nil {
		return path, -1
	}
	if i < d.flags {
		return path, i
	}
	return fmt.Sprintf("ratios[%d]%s", i-d.flags, path[end+1:]), -1
}

// line returns the line of the key at path ("ratios[0].ratio"): ok when the
// file has it, else the line of the deepest key on the path it has (0:
// none).
func (d *shapeDoc) line(path string) (line int, ok bool) {
	n := d.node
	line = d.line0
	if n == nil || path == "" {
		return line, path == "" && n != nil
	}
	for _, seg := range splitPath(path) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch {
		case seg.index >= 0:
			if n.Kind != yaml.SequenceNode || seg.index >= len(n.Content) {
				return line, false
			}
			n = n.Content[seg.index]
			line = n.Line
		default:
			if n.Kind != yaml.MappingNode {
				return line, false
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if strings.EqualFold(n.Content[i].Value, seg.key) {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line, false
			}
		}
	}
	return line, true
}

type pathSeg struct {
	key   string
	index int // -1 for a key
}

// splitPath splits "ratios[0].curves[1].step" into its keys and indexes.
func splitPath(p string) []pathSeg {
	var out []pathSeg
	for _, part := range strings.Split(p, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, pathSeg{key: key, index: -1})
		}
		for rest != "" {
			num, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if err != nil {
				break
			}
			out = append(out, pathSeg{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "first"
	case 2:
		return "second"
	case 3:
		return "third"
	}
	return strconv.Itoa(n) + "th"
}

// unjoinAll returns the errors an errors.Join holds, or err.
func unjoinAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
