package demo

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// writeTimeout bounds one frame's write: a client that reads nothing for
// that long is closed, as a feed server sheds a stuck consumer.
const writeTimeout = 10 * time.Second

// A feed is a stream per event: message n (its sequence number, from 1 at
// the hub's start) is produced at epoch + n × interval, the same for every
// socket, so every client of an event sees the same numbers at the same
// times and a new socket joins at the next one. Messages are JSON:
//
//	chat:     {"stream":"chat/E","seq":41,"ts":1763754900500,"type":"chat","user":"u00012345","text":"what a save"}
//	          {"stream":"chat/E","seq":45,"ts":1763754902500,"type":"presence","online":312}  (every 5th)
//	viewers:  {"stream":"viewers/E","seq":12,"ts":1763754924000,"viewers":1840}
//
// ts is the producer time in Unix milliseconds (Config.Now); online and
// viewers are the sockets open on the event's chat and viewer feeds.

// send writes the feed of f on event to wc until ctx ends.
func (h *hub) send(ctx context.Context, wc *wsConn, f feed, event string) error {
	iv := h.cfg.interval(f)
	n := int64(time.Since(h.epoch)/iv) + 1
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	var buf []byte
	for k := 1; ; k++ {
		due := h.epoch.Add(time.Duration(n) * iv)
		timer.Reset(time.Until(due))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-h.stop:
			wc.code.CompareAndSwap(0, int32(websocket.StatusGoingAway))
			return errGone
		}
		stamp := h.now().UnixMilli()
		for _, out := range h.inject(f, k, n, stamp, iv) {
			buf = h.frame(buf[:0], f, event, out.seq, out.stamp)
			// Not ctx: a write cancelled midway makes the library cut
			// the socket, and a restart must close it with its code.
			wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := wc.c.Write(wctx, websocket.MessageText, buf)
			cancel()
			if err != nil {
				return err
			}
			h.framesOut.Add(1)
		}
		n++
	}
}

// sent is one frame to send: its sequence number and producer time (ms).
type sent struct {
	seq, stamp int64
}

// inject returns the frames to send for the connection's k-th feed frame,
// message n stamped at stamp: the frame itself, or what the faults at k
// make of it.
func (h *hub) inject(f feed, k int, n, stamp int64, iv time.Duration) []sent {
	out := []sent{{n, stamp}}
	for _, ft := range h.cfg.Faults {
		if ft.Frame != k || (ft.Feed != "" && ft.Feed != f.String()) {
			continue
		}
		switch ft.Kind {
		case FaultSkip:
			return nil
		case FaultDuplicate:
			out = append(out, out[0])
		case FaultRegress:
			out = append(out, sent{n - 1, stamp - iv.Milliseconds()})
		case FaultDelay:
			out[0].stamp -= ft.Delay.Milliseconds()
		}
	}
	return out
}

// frame appends message seq of f on event, stamped at ms, to b.
func (h *hub) frame(b []byte, f feed, event string, seq, ms int64) []byte {
	b = append(b, `{"stream":"`...)
	b = append(b, f.String()...)
	b = append(b, '/')
	b = append(b, event...)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ms, 10)
	if f == feedViewers {
		b = append(b, `,"viewers":`...)
		b = strconv.AppendInt(b, int64(h.open(event, feedViewers)), 10)
		return append(b, '}')
	}
	if seq%5 == 0 {
		b = append(b, `,"type":"presence","online":`...)
		b = strconv.AppendInt(b, int64(h.open(event, feedChat)), 10)
		return append(b, '}')
	}
	x := splitmix64(h.seed ^ eventHash(event) ^ uint64(seq)*0x9e3779b97f4a7c15)
	b = append(b, `,"type":"chat","user":"u`...)
	u := strconv.AppendUint(nil, 1e8+x%1e8, 10)
	b = append(b, u[1:]...)
	b = append(b, `","text":"`...)
	b = append(b, chatLines[(x>>32)%uint64(len(chatLines))]...)
	return append(b, `"}`...)
}

func eventHash(event string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(event))
	return h.Sum64()
}
