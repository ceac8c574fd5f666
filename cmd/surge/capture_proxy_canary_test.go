package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/capture/tapout"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
)

// canaryUpstream answers HTTP and echoes WebSocket messages.
func canaryUpstream(t *testing.T) string {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, msg, err := c.Read(r.Context())
				if err != nil {
					return
				}
				c.Write(r.Context(), typ, msg)
			}
		}
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	return up.URL
}

// sendCanaries sends every canary through the proxy: Authorization, a
// cookie, a query token, a JSON body field, a JWT and a key id in headers
// of no secret name, and a JSON field in a WebSocket message.
func sendCanaries(t *testing.T, proxyURL string) {
	t.Helper()
	body := `{"order":{"items":[1,2],"client_secret":"` + cJSON + `"}}`
	req, _ := http.NewRequest("POST", proxyURL+"/api/orders?"+canaryQuery, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+cHeader)
	req.Header.Set("Cookie", "sid="+cCookie+"; theme=dark")
	req.Header.Set("X-Debug-Context", cJWT)
	req.Header.Set("X-Trace", cValue)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("canary request: %v %v", resp, err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(proxyURL, "http")+"/api/ws?"+canaryQuery,
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + cHeader}}, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		t.Fatal(err)
	}
	msg := `{"type":"login","client_secret":"` + cJSON + `","token":"` + cJWT + `"}`
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != msg {
		t.Fatalf("echo %q %v", got, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	time.Sleep(50 * time.Millisecond) // the close reaches the tap
}

// TestCaptureProxyCanaries: canary secrets sent through the tap appear in
// no column of the Parquet output (exchanges and frames, decoded), no
// Kafka record (decoded), no log line and no inspect output.
func TestCaptureProxyCanaries(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	up := canaryUpstream(t)
	args := []string{"--upstream", up, "--bodies", "/api/", "--session-key", "jwt:Authorization",
		"--reorder-window", "20ms", "--flush-interval", "50ms"}
	t.Run("parquet", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cap")
		p := startProxy(t, append(args, "-o", dir)...)
		sendCanaries(t, p.url)
		p.stop(t)
		noCanary(t, "the proxy's log", p.stderr.String())
		ex := eventsJSON(t, dir)
		if !strings.Contains(ex, `"path":"/api/ws"`) || !strings.Contains(ex, "{{secret:") {
			t.Errorf("the capture lacks the requests or their placeholders:\n%s", ex)
		}
		noCanary(t, "the exchanges", ex)
		fr := framesJSON(t, filepath.Join(dir, tapout.FramesDir))
		if !strings.Contains(fr, `"type":"login"`) {
			t.Errorf("the frames lack the message:\n%s", fr)
		}
		noCanary(t, "the frames", fr)
		framesDir := filepath.Join(dir, tapout.FramesDir)
		for _, args := range [][]string{{"inspect", dir}, {"inspect", "--json", dir}, {"inspect", framesDir}} {
			out, _, err := surge(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			noCanary(t, strings.Join(args, " "), out)
			if args[1] == framesDir && (!strings.Contains(out, "client text") || !strings.Contains(out, "server text")) {
				t.Errorf("inspect of the frames:\n%s", out)
			}
		}
	})
	t.Run("kafka", func(t *testing.T) {
		addr := kafkatest.Topic(t, kafkatest.Brokers(t), 2, "")
		frames, meta := addr, addr
		frames.Topic += tapout.FramesTopicSuffix
		meta.Topic += tapout.MetaTopicSuffix
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			kafkalog.DeleteTopic(ctx, frames)
			kafkalog.DeleteTopic(ctx, meta)
		})
		p := startProxy(t, append(args, "-o", addr.String())...)
		sendCanaries(t, p.url)
		p.stop(t)
		noCanary(t, "the proxy's log", p.stderr.String())
		ex := topicJSON(t, addr, false)
		if !strings.Contains(ex, "/api/orders") || !strings.Contains(ex, "{{secret:") {
			t.Errorf("the topic lacks the requests or their placeholders:\n%s", ex)
		}
		noCanary(t, "the exchange records", ex)
		fr := topicJSON(t, frames, true)
		if !strings.Contains(fr, `"type":"login"`) {
			t.Errorf("the frames topic lacks the message:\n%s", fr)
		}
		noCanary(t, "the frame records", fr)
		// The loss report: the topic's inspect states it.
		text := mustSurge(t, "inspect", addr.String())
		noCanary(t, "inspect of the topic", text)
		if !strings.Contains(text, "capture (proxy): 2 exchanges") || !strings.Contains(text, "0 dropped") {
			t.Errorf("inspect of the topic does not state the capture's counts:\n%s", text)
		}
	})
}

// framesJSON is every frame of a dataset, all columns decoded, as JSON,
// with each payload raw too.
func framesJSON(t *testing.T, dir string) string {
	t.Helper()
	rd, err := eventlog.Open[schema.Frame]([]string{dir}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var b bytes.Buffer
	for {
		f, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(f)
		b.Write(j)
		b.Write(f.Payload)
		b.WriteByte('\n')
	}
	return b.String()
}

// topicJSON reads every record of a topic: its raw key, value and headers,
// and the event decoded (exchange, or frame when frames) as JSON with the
// body or payload raw.
func topicJSON(t *testing.T, a kafkalog.Addr, frames bool) string {
	t.Helper()
	parts, err := kafkalog.Partitions(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, p := range parts {
		conn, err := kafka.DialLeader(context.Background(), "tcp", a.Brokers[0], a.Topic, p)
		if err != nil {
			t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		if err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			conn.Close() // a fetch of an empty partition waits its max wait
			continue
		}
		conn.Seek(0, kafka.SeekAbsolute)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		batch := conn.ReadBatch(1, 16<<20)
		for off := int64(0); off < last; off++ {
			m, err := batch.ReadMessage()
			if err != nil {
				t.Fatalf("partition %d offset %d: %v", p, off, err)
			}
			b.Write(m.Key)
			b.Write(m.Value)
			for _, h := range m.Headers {
				b.WriteString(h.Key + "=" + string(h.Value))
			}
			var j []byte
			if frames {
				var f schema.Frame
				if err := json.Unmarshal(m.Value, &f); err != nil {
					t.Fatal(err)
				}
				j, _ = json.Marshal(f)
				j = append(j, f.Payload...)
			} else {
				var e schema.Exchange
				if err := kafkalog.Decode(m.Headers, m.Value, &e); err != nil {
					t.Fatal(err)
				}
				j, _ = json.Marshal(e)
				j = append(j, e.Body...)
			}
			b.Write(j)
			b.WriteByte('\n')
		}
		batch.Close()
		conn.Close()
	}
	if b.Len() == 0 {
		t.Fatalf("topic %s is empty", a.Topic)
	}
	return b.String()
}
