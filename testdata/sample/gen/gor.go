package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// gorSeparator ends every GoReplay payload.
const gorSeparator = "\n🐵🙈🙉\n"

// gorRecord is one payload of a .gor file: a request or its response.
type gorRecord struct {
	x        *exchange
	response bool
	at       time.Time
}

// writeGor writes what GoReplay, listening on one API host from gorStart
// to gorEnd, captured of the gor sessions: every API request (playback
// goes to the live host, which it does not see) as a request payload
// ("1 id start_ns 0") and its response ("2 id end_ns latency_ns"), each in
// capture order. Response bodies are short stand-ins; the access log has
// the real sizes.
func writeGor(w io.Writer, xs []*exchange, seed uint64) error {
	var recs []gorRecord
	for _, x := range xs {
		if !x.s.gor || x.ep.host != apiHost {
			continue
		}
		for _, rec := range []gorRecord{{x, false, x.start}, {x, true, x.end()}} {
			if !rec.at.Before(gorStart) && rec.at.Before(gorEnd) {
				recs = append(recs, rec)
			}
		}
	}
	slices.SortFunc(recs, func(a, b gorRecord) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.x.id - b.x.id
	})
	// Payload ids are drawn in exchange order, so both halves share one.
	ids := map[*exchange]string{}
	r := rand.New(rand.NewPCG(seed, streamGor))
	for _, x := range xs {
		if x.s.gor && x.ep.host == apiHost {
			ids[x] = randHex(r, 20)
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, rec := range recs {
		x := rec.x
		if rec.response {
			fmt.Fprintf(bw, "2 %s %d %d\n", ids[x], x.end().UnixNano(), x.latency().Nanoseconds())
			writeRawResponse(bw, x)
		} else {
			fmt.Fprintf(bw, "1 %s %d 0\n", ids[x], x.start.UnixNano())
			writeRawRequest(bw, x)
		}
		bw.WriteString(gorSeparator)
	}
	return bw.Flush()
}

// writeRawRequest writes x as nginx forwarded it to the API upstream.
func writeRawRequest(w *bufio.Writer, x *exchange) {
	s := x.s
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\nHost: %s\r\n", x.method, x.target, apiHost)
	header := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "%s: %s\r\n", name, value)
		}
	}
	header("User-Agent", s.client.ua)
	header("Accept", "application/json")
	header("Accept-Encoding", "gzip")
	header("Authorization", x.auth)
	if len(x.body) > 0 {
		header("Content-Type", "application/json")
		header("Content-Length", fmt.Sprint(len(x.body)))
	}
	if s.client.browser {
		header("Origin", webOrigin)
		header("Referer", x.referer)
	}
	header("Cookie", "sid="+s.sid)
	header("X-Region", s.region.name)
	header("X-Forwarded-For", s.ip)
	header("X-Forwarded-Proto", "https")
	w.WriteString("\r\n")
	w.Write(x.body)
}

// writeRawResponse writes x's response with a short stand-in body.
func writeRawResponse(w *bufio.Writer, x *exchange) {
	body, ctype := standIn(x)
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", x.status, statusText(x.status))
	fmt.Fprintf(w, "Date: %s\r\n", x.end().Format(http.TimeFormat))
	if x.status != http.StatusNoContent {
		fmt.Fprintf(w, "Content-Type: %s\r\nContent-Length: %d\r\n", ctype, len(body))
	}
	w.WriteString("Cache-Control: private, no-store\r\n\r\n")
	w.WriteString(body)
}

// standIn is a short body of the kind x's endpoint answers with.
func standIn(x *exchange) (body, ctype string) {
	switch x.status {
	case http.StatusOK:
	case http.StatusNoContent:
		return "", ""
	case http.StatusUnauthorized, http.StatusInternalServerError:
		return apiError(x.status), "application/json"
	default:
		return errorPage(x.status), "text/html"
	}
	_, query, _ := strings.Cut(x.target, "?")
	switch x.ep {
	case epSession:
		return fmt.Sprintf(`{"user":"%s","expires_in":14400}`, x.s.user), "application/json"
	case epHome:
		return `{"rails":[{"id":"live-now","items":6},{"id":"football","items":20},{"id":"trending","items":20}],"more":true}`, "application/json"
	case epBrowse:
		return fmt.Sprintf(`{"query":"%s","items":20,"more":true}`, query), "application/json"
	case epSearch:
		return fmt.Sprintf(`{"query":"%s","results":%d}`, query, x.bytes/900), "application/json"
	case epRecs:
		return fmt.Sprintf(`{"user":"%s","items":%d}`, x.s.user, x.bytes/800), "application/json"
	case epChat:
		return fmt.Sprintf(`{"messages":%d,"next":%d}`, x.bytes/180, x.end().UnixMilli()), "application/json"
	}
	return `{}`, "application/json"
}

// statusText adds nginx's 499 to the standard status texts.
func statusText(code int) string {
	if code == 499 {
		return "Client Closed Request"
	}
	return http.StatusText(code)
}
