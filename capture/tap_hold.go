package capture

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

// The re-order window holds a plain exchange (one with no WebSocket
// connection) encoded into one byte slice, not as a Hit: the garbage
// collector marks a byte slice as one object with nothing in it to scan,
// where a Hit is some twenty objects (strings, the header list) it must
// visit on every collection while requests are in flight. With 2 s of
// requests held, those mark phases were what a request through the tap
// waited for at p99 (docs/BENCHMARKS.md, "Capture tap, separate
// processes"). The encoding is surge's Kafka record encoding
// (kafkalog.AppendBinary: every field of schema.Exchange) after the
// client address, the one other Hit field the tap sets.

// hold returns ev as it waits in the window, numbered n.
func (r *tapRecorder) hold(ev tapEvent, n uint64) heldEvent {
	he := heldEvent{tapEvent: ev, n: n}
	if ev.hit != nil && ev.conn == nil {
		r.scratch = appendHeld(r.scratch[:0], ev.hit)
		he.enc = append(make([]byte, 0, len(r.scratch)), r.scratch...)
		he.hit = nil
	}
	return he
}

// unhold returns the event he holds; ok is false, and the event dropped
// and counted, if it cannot be read back (a bug: it was just written).
func (r *tapRecorder) unhold(he heldEvent) (ev tapEvent, ok bool) {
	if he.enc == nil {
		return he.tapEvent, true
	}
	h := &Hit{}
	if err := decodeHeld(he.enc, h); err != nil {
		r.t.m.drop(dropOutput)
		r.logf("capture: a held exchange could not be read back (not written): %v", err)
		return tapEvent{}, false
	}
	ev = he.tapEvent
	ev.hit = h
	return ev, true
}

// appendHeld appends h's client address (uvarint length, bytes) and its
// exchange (kafkalog binary encoding) to dst.
func appendHeld(dst []byte, h *Hit) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(h.Client)))
	dst = append(dst, h.Client...)
	return kafkalog.AppendBinary(dst, &h.Exchange)
}

// decodeHeld reads appendHeld's encoding into h. Its strings share one
// copy of b.
func decodeHeld(b []byte, h *Hit) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return errors.New("held exchange: client address: bad length")
	}
	h.Client = string(b[k : k+int(n)])
	if err := kafkalog.DecodeBinary(b[k+int(n):], &h.Exchange); err != nil {
		return fmt.Errorf("held exchange: %w", err)
	}
	return nil
}
