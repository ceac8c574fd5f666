package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/surge-replay/surge/eventlog"
)

func TestCaptureLossNote(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta string // _surge.json content; "" writes none
		want string
	}{
		// a capture that lost events: the replay says how many
		{"lost", `{"surge.capture_loss":"{\"exchanges\":900,\"frames\":0,\"dropped\":100}"}`,
			"capture loss: 100 of 1000 events (10.00%) were dropped when the capture was recorded; the replayed rates are low by that much\n"},
		// nothing lost: nothing said
		{"none lost", `{"surge.capture_loss":"{\"exchanges\":900,\"dropped\":0}"}`, ""},
		// an import, not a tap: nothing said
		{"no tap", `{"surge.import_report":"{}"}`, ""},
		// no metadata at all
		{"no metadata", "", ""},
	} {
		dir := t.TempDir()
		if tc.meta != "" {
			os.WriteFile(filepath.Join(dir, eventlog.DatasetMeta), []byte(tc.meta), 0o644)
		}
		if got := captureLossNote([]string{dir}); got != tc.want {
			t.Errorf("%s: captureLossNote = %q; want %q", tc.name, got, tc.want)
		}
	}
}
