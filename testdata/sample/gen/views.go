package main

import (
	"bufio"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
)

// viewHeader is the header row of views.csv and the key order of views.jsonl.
var viewHeader = []string{"time", "user", "session", "content", "type", "position_ms", "watched_ms", "device", "region"}

// sortedViews returns the viewing events in time order.
func (w *world) sortedViews() []*view {
	vs := slices.Clone(w.views)
	slices.SortStableFunc(vs, func(a, b *view) int { return a.t.Compare(b.t) })
	return vs
}

func (v *view) fields() []string {
	return []string{
		isoMS(v.t), v.s.user, v.playback, event, v.typ,
		strconv.FormatInt(v.pos, 10), strconv.FormatInt(v.watched, 10),
		v.s.client.device, v.s.region.name,
	}
}

// writeViewsCSV writes every viewing event.
func writeViewsCSV(w io.Writer, vs []*view) error {
	cw := csv.NewWriter(w)
	cw.Write(viewHeader)
	for _, v := range vs {
		cw.Write(v.fields())
	}
	cw.Flush()
	return cw.Error()
}

// writeViewsJSONL writes the viewing events of the GoReplay sessions during
// the capture, one JSON object per line, keys in viewHeader order.
func writeViewsJSONL(w io.Writer, vs []*view) error {
	bw := bufio.NewWriter(w)
	for _, v := range vs {
		if !v.s.gor || v.t.Before(gorStart) || !v.t.Before(gorEnd) {
			continue
		}
		f := v.fields()
		bw.WriteByte('{')
		for i, name := range viewHeader {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(strconv.Quote(name) + ":")
			if name == "position_ms" || name == "watched_ms" {
				bw.WriteString(f[i])
			} else {
				bw.WriteString(strconv.Quote(f[i])) // plain ASCII: a JSON string too
			}
		}
		bw.WriteString("}\n")
	}
	return bw.Flush()
}
