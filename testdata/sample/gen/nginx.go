package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
	"time"
)

// logFormat is the nginx log_format of match-night.log.gz.
const logFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time "$http_x_region" "$cookie_sid" "$http_authorization"`

// logged returns the exchanges an access log written from windowStart to
// windowEnd holds, in the order nginx wrote them: when the response ended.
func (w *world) logged() []*exchange {
	var xs []*exchange
	for _, x := range w.xs {
		if e := x.end(); !e.Before(windowStart) && e.Before(windowEnd) {
			xs = append(xs, x)
		}
	}
	slices.SortFunc(xs, func(a, b *exchange) int {
		if c := a.end().Compare(b.end()); c != 0 {
			return c
		}
		return a.id - b.id
	})
	return xs
}

// writeLog writes the access log of xs, gzip-compressed; extended adds the
// fields after the combined ones.
func writeLog(w io.Writer, xs []*exchange, extended bool) error {
	zw, err := newGzip(w)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(zw, 64<<10)
	for _, x := range xs {
		fmt.Fprintf(bw, `%s - %s [%s] "%s %s %s" %d %d "%s" "%s"`,
			x.s.ip, x.remoteUser(), x.end().Format("02/Jan/2006:15:04:05 -0700"),
			x.method, x.target, x.s.proto, x.status, x.bytes, dash(x.referer), x.s.client.ua)
		if extended {
			fmt.Fprintf(bw, ` %s "%s" "%s" "%s"`, seconds(x.latency()), x.s.region.name, x.s.sid, dash(x.auth))
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// newGzip returns a gzip writer whose bytes depend on the input only: the
// header has no name and a zero modification time.
func newGzip(w io.Writer) (*gzip.Writer, error) {
	return gzip.NewWriterLevel(w, gzip.BestCompression)
}

// seconds formats d as nginx's $request_time: seconds, millisecond precision.
func seconds(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
