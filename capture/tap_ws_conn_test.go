package capture

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/schema"
)

// lateOutput is a memOutput that accepts late exchanges, as a Parquet
// output does.
type lateOutput struct{ *memOutput }

func (lateOutput) AcceptsLate() bool { return true }

// TestTapWebSocketConnectionNS: to an output that accepts late exchanges,
// a WebSocket upgrade is written when its connection closes, with
// connection_ns its lifetime; a connection still open when the tap closes
// gets its lifetime until then. To an output in time order (Kafka) the
// upgrade is written at the 101, without connection_ns.
func TestTapWebSocketConnectionNS(t *testing.T) {
	for _, tc := range []struct {
		name string
		late bool
	}{
		{"late", true},      // Parquet: upgrade written at the close
		{"in order", false}, // Kafka: upgrade written at the 101
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := &memOutput{}
			var out TapOutput = mem
			if tc.late {
				out = lateOutput{mem}
			}
			f := newTapFixture(t, chatUpstream(t), TapConfig{Output: out, ReorderWindow: 10 * time.Millisecond, Session: SessionKey{Kind: "query", Name: "c"}})
			f.out = mem
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			dial := func(c string) *websocket.Conn {
				ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/chat?c="+c, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := ws.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
					t.Fatal(err)
				}
				if _, _, err := ws.Read(ctx); err != nil {
					t.Fatal(err)
				}
				return ws
			}
			closed := dial("closed")
			start := time.Now()
			open := dial("open")
			time.Sleep(150 * time.Millisecond)
			closed.Close(websocket.StatusNormalClosure, "bye")
			lifeMax := time.Since(start) + 5*time.Second // generous: a loaded machine
			time.Sleep(100 * time.Millisecond)
			ex, _ := f.close(t) // closes the open connection
			_ = open
			if len(ex) != 2 {
				t.Fatalf("recorded %d exchanges; want 2 upgrades", len(ex))
			}
			for _, e := range ex {
				if !tc.late {
					if e.ConnectionNS != nil {
						t.Errorf("%s: connection_ns %d; want none (written at the 101)", e.Query, *e.ConnectionNS)
					}
					continue
				}
				if e.ConnectionNS == nil {
					t.Errorf("%s: no connection_ns", e.Query)
					continue
				}
				life := time.Duration(*e.ConnectionNS)
				if life < 150*time.Millisecond || life > lifeMax+time.Second {
					t.Errorf("%s: connection_ns %v; want at least the 150ms it was held open, at most %v", e.Query, life, lifeMax)
				}
				if e.LatencyNS == nil || e.StatusCode() != 101 || e.Protocol != schema.ProtoWebSocket {
					t.Errorf("%s: latency %v status %d protocol %s; want the upgrade's", e.Query, e.LatencyNS, e.StatusCode(), e.Protocol)
				}
			}
		})
	}
}
