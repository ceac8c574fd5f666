package capture_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/surge-replay/surge/capture"
)

func ExampleNewNginxDecoder() {
	const format = `$remote_addr [$time_iso8601] "$request" $status $request_time "$http_user_agent"`
	const access = `203.0.113.7 [2026-11-21T20:00:01+00:00] "GET /live?ch=1 HTTP/1.1" 200 0.250 "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"
203.0.113.8 [2026-11-21T20:00:02+00:00] "\x16\x03\x01" 400 0.000 "-"
`
	dec, err := capture.NewNginxDecoder(strings.NewReader(access), "access.log", format)
	if err != nil {
		log.Fatal(err)
	}
	for {
		var h capture.Hit
		err := dec(&h)
		if err == io.EOF {
			break
		}
		var bad *capture.RecordError
		if errors.As(err, &bad) {
			fmt.Println("skipped", bad)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		e := &h.Exchange
		fmt.Println(e.Time.Format(time.RFC3339Nano), e.Method, e.Path, e.Query, e.StatusCode(), e.Device, h.Client)
	}
	// Output:
	// 2026-11-21T20:00:00.75Z GET /live ch=1 200 mobile 203.0.113.7
	// skipped access.log:2 (offset 147): $request: not an HTTP request: TLS handshake bytes (a TLS client on a plain-HTTP port)
}
