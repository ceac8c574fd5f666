package demo

import (
	"strconv"
	"sync/atomic"
	"time"
)

// Live channel timing, as in the sample: 6-second segments, a playlist of
// the latest 10, and a channel that went on air 15 minutes before the
// server started (so the first playlist starts near segment 150, like the
// sample's 19:45).
const (
	segmentDuration = 6 * time.Second
	playlistLength  = 10
	onAirBefore     = 15 * time.Minute
)

// segmentBody is every segment's body: 11 MPEG-TS packets (2,068 bytes) —
// enough to look like a segment without loading the loopback with the
// recorded 0.5–1.5 MB.
var segmentBody = buildSegment(11)

func buildSegment(packets int) []byte {
	const packetSize = 188
	b := make([]byte, packets*packetSize)
	for i := range packets {
		p := b[i*packetSize : (i+1)*packetSize]
		p[0] = 0x47                // sync byte
		p[1] = 0x41                // payload unit start, PID 0x100 (high bits)
		p[2] = 0x00                // PID 0x100 (low bits)
		p[3] = 0x10 | byte(i&0x0f) // payload only, continuity counter
		for j := 4; j < packetSize; j++ {
			p[j] = 0xff
		}
	}
	return b
}

// playlist is a rendered live playlist for one media sequence number.
type playlist struct {
	seq  int64
	etag string
	body []byte
}

// live renders the live playlist, re-rendering only when a new segment
// appears (every 6 s). It is safe for concurrent use.
type live struct {
	onAir time.Time
	cur   atomic.Pointer[playlist]
}

func newLive(start time.Time) *live { return &live{onAir: start.Add(-onAirBefore)} }

// playlist returns the playlist as it is at now.
func (l *live) playlist(now time.Time) *playlist {
	latest := max(int64(now.Sub(l.onAir)/segmentDuration), playlistLength)
	seq := latest - playlistLength + 1
	if p := l.cur.Load(); p != nil && p.seq == seq {
		return p
	}
	// Two requests may render the same playlist at once; either result is
	// correct, and the last store wins.
	p := &playlist{seq: seq, etag: `"` + strconv.FormatInt(seq, 10) + `"`, body: l.render(seq)}
	l.cur.Store(p)
	return p
}

func (l *live) render(seq int64) []byte {
	b := make([]byte, 0, 900)
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, "\n#EXT-X-PROGRAM-DATE-TIME:"...)
	b = l.onAir.Add(time.Duration(seq)*segmentDuration).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, '\n')
	for n := seq; n < seq+playlistLength; n++ {
		b = append(b, "#EXTINF:6.000,\nseg-"...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, ".ts\n"...)
	}
	return b
}
