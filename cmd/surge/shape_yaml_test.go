package main

import (
	"strings"
	"testing"
)

// FuzzShapeDoc: any YAML config's shape block decodes or errors, never
// panics, and every error names the file.
func FuzzShapeDoc(f *testing.F) {
	f.Add("shape:\n  ratioz: 3\n")
	f.Add("shape:\n  ratios:\n    - {name: live, match: \"path=/live/**\", ratio: ten}\n  exits: [{at: +1m, fraction: 2, to: x}]\n")
	f.Add("shape: &a {ratios: [*a]}\n")
	f.Add("replay: {ratio: 2}\nshape:\n  sessions: {home: {match: [1, 2]}}\n")
	f.Fuzz(func(t *testing.T, data string) {
		doc, err := readShapeDoc("c.yaml", []byte(data))
		if err != nil {
			return
		}
		s, errs := doc.settings()
		if len(errs) == 0 {
			errs = doc.wrap(s.Validate())
		}
		for _, e := range errs {
			if !strings.Contains(e.Error(), "c.yaml") {
				t.Errorf("shape error %q does not name the file", e)
			}
		}
	})
}

// TestShapeDocLine: the line of a key path, or of its deepest part the
// file has.
func TestShapeDocLine(t *testing.T) {
	doc, err := readShapeDoc("c.yaml", []byte("replay: {ratio: 1}\nshape:\n  ratios:\n    - name: a\n      match: \"path=/a\"\n    - {name: b, match: x}\n  exits: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		line int
		ok   bool
	}{
		{"ratios", 3, true},                // a key
		{"ratios[0].match", 5, true},       // in a list item
		{"ratios[1].name", 6, true},        // in a flow mapping
		{"ratios[1].ratio", 6, false},      // missing: its item's line
		{"ratios[7]", 3, false},            // no such item: the list's
		{"Exits", 7, true},                 // keys without case
		{"curves[0].step[1].at", 2, false}, // nothing of it: the block's
	} {
		line, ok := doc.line(tt.path)
		if line != tt.line || ok != tt.ok {
			t.Errorf("line(%q) = %d, %v; want %d, %v", tt.path, line, ok, tt.line, tt.ok)
		}
	}
}
