package capture_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/surge-replay/surge/capture"
)

func ExampleNewJSONLDecoder() {
	in := strings.NewReader(`{"time":"2025-03-14T08:26:53Z","host":"api.example.com","path":"/v1/rows?kids=1","session_id":"abc","status":200}
{"time":"2025-03-14T08:26:54Z","host":"api.example.com","colour":"blue"}
{"time":"2025-03-14T08:26:55Z","method":"POST","scheme":"https","host":"api.example.com","path":"/v1/play","body":"e30=","latency_ns":1500000}
`)
	dec := capture.NewJSONLDecoder(in, "traffic.jsonl")
	for {
		var h capture.Hit
		err := dec(&h)
		var bad *capture.RecordError
		switch {
		case err == io.EOF:
			return
		case errors.As(err, &bad):
			fmt.Println("skipped:", bad)
			continue
		case err != nil:
			fmt.Println("stopped:", err)
			return
		}
		e := h.Exchange
		fmt.Printf("%s %s %s://%s%s query=%q body=%q status=%d session_id=%q\n",
			e.Time.Format("15:04:05"), e.Method, e.Scheme, e.Host, e.Path, e.Query, e.Body, e.StatusCode(), h.SessionID)
	}
	// Output:
	// 08:26:53 GET http://api.example.com/v1/rows query="kids=1" body="" status=200 session_id="abc"
	// skipped: traffic.jsonl:2 (offset 114): colour: unknown field
	// 08:26:55 POST https://api.example.com/v1/play query="" body="{}" status=0 session_id=""
}
