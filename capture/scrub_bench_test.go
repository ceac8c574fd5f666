package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/surge-replay/surge/schema"
)

// scrubRecords are the records BenchmarkScrubRecord scrubs, by kind.
func scrubRecords(b *testing.B) map[string][]schema.Exchange {
	// Access-log records as the importers make them: the bundled sample's
	// combined log (User-Agent, Referer, ?user= in queries).
	f, err := OpenFile("../testdata/sample/match-night-combined.log.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		b.Fatal(err)
	}
	dec := NewCombinedDecoder(bytes.NewReader(data), "sample")
	var logs []schema.Exchange
	for len(logs) < 1000 {
		var h Hit
		if err := dec(&h); err == io.EOF {
			break
		} else if err != nil {
			continue
		}
		e := h.Exchange
		e.Headers = append([]schema.Header(nil), e.Headers...)
		logs = append(logs, e)
	}
	api := schema.Exchange{
		Method: "POST", Path: "/api/v1/accounts/4111111111111111/orders", Query: "access_token=ya29.a0Af&user=alice&page=2",
		Headers: []schema.Header{
			{Name: "Authorization", Value: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"},
			{Name: "Cookie", Value: "sid=abc123; lang=en; theme=dark"},
			{Name: "Referer", Value: "https://example.com/cb?code=xyz&key=AKIAIOSFODNN7EXAMPLE"},
			{Name: "User-Agent", Value: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0"},
		},
	}
	json := api
	json.SetBody([]byte(`{"order":{"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"payment":{"card":{"number":"4111 1111 1111 1111","cvc":"123"},"password":"hunter2"}},"email":"a@example.com","note":"deliver <after> 5pm & ring"}`), 0)
	form := api
	form.SetBody([]byte(`grant_type=password&username=alice&password=hunter2&client_id=web&client_secret=s3cr3t&scope=openid`), 0)
	return map[string][]schema.Exchange{"log": logs, "api": {api}, "json": {json}, "form": {form}}
}

// BenchmarkScrubRecord is the scrubber's cost per record: "log" for the
// records of an access log (most of an import), "api" for a request with a
// bearer JWT, cookies, a token and a user in the query, an AWS key in the
// Referer and a card number in the path, "json" and "form" for the same with
// a body. Each op scrubs one record (a copy of its headers and body).
func BenchmarkScrubRecord(b *testing.B) {
	records := scrubRecords(b)
	for _, kind := range []string{"log", "api", "json", "form"} {
		recs := records[kind]
		b.Run(kind, func(b *testing.B) {
			s := NewScrubber(ScrubConfig{Key: key})
			var hs []schema.Header
			var body []byte
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				x := recs[i%len(recs)]
				i++
				hs = append(hs[:0], x.Headers...)
				x.Headers = hs
				body = append(body[:0], x.Body...)
				x.Body = body
				s.Exchange(&x)
			}
		})
	}
}

// BenchmarkScrubExcerpt is the cost of scrubbing a skipped line's excerpt.
func BenchmarkScrubExcerpt(b *testing.B) {
	s := NewScrubber(ScrubConfig{Key: key})
	excerpt := `t.log:2 (offset 311): $request: not an HTTP version: "GET /api/v4/projects?private_token=glpat-abcdefghij0123456789&per_page=100 HTTP/1.2"`
	b.ReportAllocs()
	for b.Loop() {
		s.Text(excerpt)
	}
}
