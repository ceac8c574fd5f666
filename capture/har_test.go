package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
)

func decodeHAR(t testing.TB, data []byte, name string) []decodeResult {
	return drainHits(t, NewHARDecoder(bytes.NewReader(data), name), name, len(data))
}

// harDoc wraps entries in the smallest HAR document.
func harDoc(entries ...string) string {
	return `{"log":{"version":"1.2","entries":[` + strings.Join(entries, ",") + `]}}`
}

func TestHARGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/har/*.har", decodeHAR)
}

func TestHARTruncated(t *testing.T) {
	testTruncations(t, "testdata/har/*.har", decodeHAR, func(t *testing.T, data []byte, n int, got []decodeResult) {
		_, _, fatal := countResults(got)
		if cut := len(bytes.TrimSpace(data[n:])) > 0; cut && fatal != 1 {
			t.Errorf("HAR cut to %d of %d bytes: %d fatal errors; want 1", n, len(data), fatal)
		}
	})
}

func TestHARCutShortIsUnexpectedEOF(t *testing.T) {
	doc := harDoc(harEntry1, harEntry1)
	dec := NewHARDecoder(strings.NewReader(doc[:len(doc)-20]), "cut.har")
	var h Hit
	if err := dec(&h); err != nil {
		t.Fatalf("first entry: %v", err)
	}
	err := dec(&h)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "cut.har (offset ") {
		t.Errorf("dec(second entry) = %v; want io.ErrUnexpectedEOF with file and offset", err)
	}
	if again := dec(&h); again != err {
		t.Errorf("dec after a fatal error = %v; want the same error %v", again, err)
	}
}

// harEntry1 is a well-formed entry the tests vary.
const harEntry1 = `{"startedDateTime":"2025-03-14T09:26:53.5+01:00","time":12.5,
	"request":{"method":"GET","url":"https://www.example.com/a?b=1","httpVersion":"HTTP/1.1","headers":[{"name":"Accept","value":"*/*"}]},
	"response":{"status":200,"content":{"size":10},"bodySize":4}}`

// harEntryTests vary harEntry1 and say what the decoder must make of it.
var harEntryTests = []struct {
	comment string
	from    string // replaced in harEntry1
	to      string
	want    func(e *schema.Exchange) string // "" when e is as expected
	field   string                          // the RecordError's field, when one is expected
}{
	{
		comment: "the well-formed entry",
		want: func(e *schema.Exchange) string {
			return expect("Time", e.Time.Format("15:04:05.000"), "08:26:53.500") + expect("URL", e.Scheme+"://"+e.Host+e.Path+"?"+e.Query, "https://www.example.com/a?b=1") +
				expect("LatencyNS", *e.LatencyNS, int64(12_500_000)) + expect("ResponseBytes", *e.ResponseBytes, int64(10)) + expect("Protocol", e.Protocol, schema.ProtoHTTP11)
		},
	},
	{
		comment: "pseudo-headers are dropped; :authority and :scheme complete a url without them",
		from:    `"url":"https://www.example.com/a?b=1","httpVersion":"HTTP/1.1","headers":[`,
		to:      `"url":"/a?b=1","httpVersion":"h2","headers":[{"name":":authority","value":"m.example.com"},{"name":":scheme","value":"https"},{"name":":path","value":"/a?b=1"},`,
		want: func(e *schema.Exchange) string {
			return expect("Scheme://Host", e.Scheme+"://"+e.Host, "https://m.example.com") + expect("len(Headers)", len(e.Headers), 1) + expect("Protocol", e.Protocol, schema.ProtoHTTP2)
		},
	},
	{
		comment: "the fragment is dropped, the path and query stay escaped",
		from:    `https://www.example.com/a?b=1`,
		to:      `https://www.example.com/a%2Fb%20c?q=a%20b&x#frag`,
		want: func(e *schema.Exchange) string {
			return expect("Path", e.Path, "/a%2Fb%20c") + expect("Query", e.Query, "q=a%20b&x")
		},
	},
	{
		comment: "a base64 post body is decoded",
		from:    `"headers":[{"name":"Accept","value":"*/*"}]`,
		to:      `"headers":[],"postData":{"mimeType":"application/octet-stream","text":"AAEC","encoding":"base64"}`,
		want:    func(e *schema.Exchange) string { return expect("Body", string(e.Body), "\x00\x01\x02") },
	},
	{
		comment: "bad base64 names the field",
		from:    `"headers":[{"name":"Accept","value":"*/*"}]`,
		to:      `"headers":[],"postData":{"text":"%%%","encoding":"base64"}`,
		field:   "request.postData.text",
	},
	{
		comment: "status 0 is no response: no response facts at all",
		from:    `"status":200`,
		to:      `"status":0`,
		want: func(e *schema.Exchange) string {
			return expect("all response facts nil", e.Status == nil && e.ResponseBytes == nil && e.LatencyNS == nil, true)
		},
	},
	{
		comment: "content.size -1 falls back to bodySize",
		from:    `"size":10`,
		to:      `"size":-1`,
		want:    func(e *schema.Exchange) string { return expect("ResponseBytes", *e.ResponseBytes, int64(4)) },
	},
	{
		comment: "a negative time is an unknown latency",
		from:    `"time":12.5`,
		to:      `"time":-1`,
		want:    func(e *schema.Exchange) string { return expect("LatencyNS == nil", e.LatencyNS == nil, true) },
	},
	{
		comment: "a time without offset is not RFC 3339",
		from:    `2025-03-14T09:26:53.5+01:00`,
		to:      `2025-03-14 09:26:53`,
		field:   "startedDateTime",
	},
	{
		comment: "a URL that is not http(s) or ws(s) is skipped",
		from:    `https://www.example.com/a?b=1`,
		to:      `ftp://files.example.com/a`,
		field:   "request.url",
	},
	{
		comment: "a relative URL without :authority has no host",
		from:    `https://www.example.com/a?b=1`,
		to:      `/a?b=1`,
		field:   "request.url",
	},
	{
		comment: "a string where a number belongs names the JSON path",
		from:    `"time":12.5`,
		to:      `"time":"slow"`,
		field:   "time",
	},
	{
		comment: "a status outside 100-599",
		from:    `"status":200`,
		to:      `"status":1000`,
		field:   "response.status",
	},
	{
		comment: "a header name that is not a token fails validation",
		from:    `"name":"Accept"`,
		to:      `"name":"Accept Me"`,
		field:   "headers[0].name",
	},
	{
		comment: "no method",
		from:    `"method":"GET",`,
		to:      ``,
		field:   "request.method",
	},
}

func TestHAREntry(t *testing.T) {
	for _, tt := range harEntryTests {
		entry := strings.Replace(harEntry1, tt.from, tt.to, 1)
		if tt.from != "" && entry == harEntry1 {
			t.Fatalf("%s: %q is not in the entry", tt.comment, tt.from)
		}
		var h Hit
		err := NewHARDecoder(strings.NewReader(harDoc(entry)), "t.har")(&h)
		var rerr *RecordError
		switch {
		case tt.field != "":
			if !errors.As(err, &rerr) || rerr.Field != tt.field {
				t.Errorf("%s: decode = %v; want a RecordError on field %s", tt.comment, err, tt.field)
			}
		case err != nil:
			t.Errorf("%s: decode = %v; want a hit", tt.comment, err)
		default:
			if msg := tt.want(&h.Exchange); msg != "" {
				t.Errorf("%s: %s", tt.comment, msg)
			}
			if h.Client != "har:t.har" || h.Exchange.Source != "har" {
				t.Errorf("%s: Client, Source = %q, %q; want har:t.har, har", tt.comment, h.Client, h.Exchange.Source)
			}
		}
	}
}

// expect returns "" when got equals want, and "what = got; want want. "
// when not.
func expect[T comparable](what string, got, want T) string {
	if got == want {
		return ""
	}
	return fmt.Sprintf("%s = %#v; want %#v. ", what, got, want)
}

func TestHARProto(t *testing.T) {
	tests := []struct {
		comment, version, want string
	}{
		{"Chrome's HTTP/1.1", "http/1.1", schema.ProtoHTTP11},
		{"Firefox's HTTP/1.1", "HTTP/1.1", schema.ProtoHTTP11},
		{"HTTP/1.0", "HTTP/1.0", schema.ProtoHTTP10},
		{"Chrome's HTTP/2", "http/2.0", schema.ProtoHTTP2},
		{"Firefox's HTTP/2", "HTTP/2", schema.ProtoHTTP2},
		{"the ALPN name", "h2", schema.ProtoHTTP2},
		{"HTTP/3 has no schema protocol: replayed as HTTP/1.1", "h3", schema.ProtoHTTP11},
		{"HTTP/3 spelled out", "HTTP/3", schema.ProtoHTTP11},
		{"empty (some proxies)", "", schema.ProtoHTTP11},
		{"unknown", "spdy/3", schema.ProtoHTTP11},
	}
	for _, tt := range tests {
		if got := harProto(tt.version); got != tt.want {
			t.Errorf("%s: harProto(%q) = %q; want %q", tt.comment, tt.version, got, tt.want)
		}
	}
}

func TestHARDocument(t *testing.T) {
	tests := []struct {
		comment string
		doc     string
		hits    int
		fatal   string // substring of the fatal error; "" for a clean end
	}{
		{"entries first, then creator and pages", `{"log":{"entries":[` + harEntry1 + `],"creator":{"name":"x"},"pages":[{"id":"p","pageTimings":{}}]}}`, 1, ""},
		{"members before log are skipped", `{"_meta":{"a":[1,{"b":[]}]},"log":{"pages":[],"entries":[` + harEntry1 + `,` + harEntry1 + `]},"_tail":null}`, 2, ""},
		{"empty entries", harDoc(), 0, ""},
		{"no entries", `{"log":{"version":"1.2","pages":[]}}`, 0, "no log.entries"},
		{"no log", `{"version":"1.2"}`, 0, "no log.entries"},
		{"not an object", `[1,2]`, 0, "a HAR file is a JSON object"},
		{"entries not an array", `{"log":{"entries":{}}}`, 0, "log.entries is an array"},
		{"trailing data", harDoc(harEntry1) + ` {}`, 1, "data after the HAR object"},
		{"empty file", ``, 0, "unexpected EOF"},
		{"broken JSON inside an entry", harDoc(`{"time": 1 2}`), 0, "invalid character"},
	}
	for _, tt := range tests {
		got := decodeHAR(t, []byte(tt.doc), "doc.har")
		hits, _, fatal := countResults(got)
		var msg string
		if fatal > 0 {
			msg = got[len(got)-1].Fatal
		}
		if hits != tt.hits || (tt.fatal == "") != (fatal == 0) || !strings.Contains(msg, tt.fatal) {
			t.Errorf("%s: decode = %d hits, fatal %q; want %d hits, fatal %q", tt.comment, hits, msg, tt.hits, tt.fatal)
		}
	}
}

func TestHAREntryTooLarge(t *testing.T) {
	const limit = 1 << 20
	open := func(size int64) io.Reader {
		return io.MultiReader(
			strings.NewReader(`{"log":{"entries":[{"comment":"`),
			io.LimitReader(repeatReader('a'), size),
			strings.NewReader(`"}]}}`),
		)
	}
	var h Hit
	if err := newHARDecoder(open(limit/2), "small.har", limit)(&h); err == nil || errors.Is(err, errHAREntryTooLarge) {
		t.Errorf("decode(an entry under the limit) = %v; want a RecordError for its missing fields", err)
	}
	err := newHARDecoder(open(limit+1), "big.har", limit)(&h)
	if !errors.Is(err, errHAREntryTooLarge) || !strings.HasPrefix(err.Error(), "big.har (offset 19)") {
		t.Errorf("decode(an entry over the limit) = %v; want errHAREntryTooLarge at big.har (offset 19), after the [", err)
	}
}

// repeatReader reads the same byte forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func FuzzHARDecode(f *testing.F) {
	addSeeds(f, "testdata/har/*.har")
	addUnseenSeeds(f, "har") // the field cases too
	f.Add([]byte(harDoc(harEntry1, `[]`, `{}`, `null`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeHAR(t, data, "fuzz.har")
	})
}
