package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Secrets in places the canary test's inputs do not have, tried on every
// importer (the kinds of fault the field cases showed, in new shapes).
const (
	uCard   = "4539578763621486"                                               // a card number passing Luhn, as a path segment
	uAWS    = "AKIACANARYREF0000013"                                           // an AWS key id in a Referer
	uJWT    = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.CANARYunlisted0014" // a JWT in a header of no secret name
	uNested = "CANARYnested0015"                                               // token= inside a percent-encoded redirect URL
	uDeep   = "CANARYdeep0016"                                                 // password at depth 4 of a JSON body in a skipped line
	uDeepOK = "CANARYdeepok0017"                                               // the same in an imported line
	uRedir  = "next=%2Fcb%3Ftoken%3D" + uNested + "%26a%3D1"                   // the query that holds uNested
	uDeepJS = `{"a":{"b":{"c":{"password":"` + uDeep + `"}}}}`                 // depth 4
	uDeepOJ = `{"a":{"b":{"c":{"password":"` + uDeepOK + `"}}},"note":"<b>&"}` // depth 4, imported
	uRef    = "https://x.example/?k=" + uAWS                                   // the Referer
	uPath   = "/cards/" + uCard + "/charge"                                    // the path
)

var unseenRE = regexp.MustCompile(`CANARY|Q0FOQVJZ|eyJzdWIiOiJDQU5BUlkifQ|` + uCard + `|4539[ -]?5787`)

// nginxEsc escapes s as nginx's escape=default does in a log line.
func nginxEsc(s string) string { return strings.ReplaceAll(s, `"`, `\x22`) }

var unseenInputs = []struct {
	format string
	args   []string
	file   string
	body   string
	places int // bad records skipped
}{
	// combined: card in the path, a redirect token in the query, an AWS key
	// in the Referer; a skipped line holding all of them.
	{"combined", nil, "a.log", "" +
		`192.0.2.1 - - [21/Nov/2026:19:45:00 +0000] "GET ` + uPath + `?` + uRedir + ` HTTP/1.1" 200 5 "` + uRef + `" "curl/8"` + "\n" +
		`192.0.2.2 - - [21/Nov/2026:19:45:01 +0000] "GET ` + uPath + `?` + uRedir + ` HTTP/9.9" 200 5 "` + uRef + `" "curl/8"` + "\n",
		1},
	// nginx with an unlisted header and an unquoted body (anchored on both
	// sides): a JSON body at depth 4 in an imported and in a skipped line.
	{"nginx", []string{"--log-format", `$remote_addr [$time_local] "$request" $status "$http_referer" "$http_x_debug" $request_body $request_time`}, "n.log", "" +
		`192.0.2.1 [21/Nov/2026:19:45:00 +0000] "POST ` + uPath + `?` + uRedir + ` HTTP/1.1" 200 "` + uRef + `" "` + uJWT + `" ` + nginxEsc(uDeepOJ) + ` 0.010` + "\n" +
		`192.0.2.2 [21/Nov/2026:19:45:01 +0000] "POST /x HTTP/9.9" 200 "-" "-" ` + nginxEsc(uDeepJS) + ` 0.010` + "\n",
		1},
	// Apache with an unlisted header; a skipped line.
	{"apache", []string{"--log-format", `%h %t \"%r\" %>s %b \"%{Referer}i\" \"%{X-Debug}i\"`}, "ap.log", "" +
		`192.0.2.1 [21/Nov/2026:19:45:00 +0000] "GET ` + uPath + `?` + uRedir + ` HTTP/1.1" 200 5 "` + uRef + `" "` + uJWT + `"` + "\n" +
		`192.0.2.2 [21/Nov/2026:19:45:01 +0000] "GET ` + uPath + `?` + uRedir + ` HTTP/9.9" 200 5 "` + uRef + `" "` + uJWT + `"` + "\n",
		1},
	// Caddy: headers of every kind; a JSON body field at depth 4 in a
	// skipped record.
	{"caddy", nil, "c.log", `{"level":"info","ts":1763754300.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"192.0.2.1","proto":"HTTP/1.1","method":"GET","host":"api.example.com","uri":"` + uPath + `?` + uRedir + `","headers":{"X-Debug":["` + uJWT + `"],"Referer":["` + uRef + `"]}},"duration":0.012,"size":5,"status":200}` + "\n" +
		`{"level":"info","ts":"bad","logger":"http.log.access","request":{"uri":"/x","body":` + uDeepJS + `}}` + "\n",
		1},
	// Envoy's default format: path and query; a skipped line.
	{"envoy", nil, "envoy.log", `[2026-11-21T20:00:01.310Z] "GET ` + uPath + `?` + uRedir + ` HTTP/1.1" 200 - 0 2451 12 11 "198.51.100.7" "curl/8" "5f1a2b3c" "api.example.com" "192.0.2.17:8080"` + "\n" +
		`[2026-11-21T20:00:02.310Z] "GET ` + uPath + `?` + uRedir + ` HTTP/9.9" 200 - 0 2451 12 11 "198.51.100.7" "curl/8" "5f1a2b3c" "api.example.com" "192.0.2.17:8080"` + "\n",
		1},
	// ALB: path and query; a skipped line.
	{"alb", nil, "alb.log", `https 2026-11-21T20:00:02.186641Z app/lb/50dc6c495c0c9188 198.51.100.7:40211 192.0.2.10:80 0.086 0.048 0.037 200 200 712 5791 "GET https://api.example.com:443` + uPath + `?` + uRedir + ` HTTP/1.1" "curl/8" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "api.example.com" "-" 1 2026-11-21T20:00:02.015000Z "forward" "-" "-" "192.0.2.10:80" "200" "-" "-"` + "\n" +
		`https junk ` + uPath + `?` + uRedir + "\n",
		1},
	// CloudFront: path, query, Referer; a skipped row.
	{"cloudfront", nil, "cf.log", "#Version: 1.0\n" +
		"#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n" +
		"2026-11-21\t20:00:01\tIAD89-C3\t335\t192.0.2.159\tGET\td111111abcdef8.cloudfront.net\t" + uPath + "\t200\t" + uRef + "\tcurl/8\t" + uRedir + "\t-\tMiss\tid1\twww.example.com\thttps\t123\t0.338\n" +
		"2026-11-21\tjunk\t" + uPath + "?" + uRedir + "\n",
		1},
	// JSON lines: every place; a skipped record with the body at depth 4.
	{"jsonl", nil, "a.jsonl", `{"time":"2026-11-21T19:45:00Z","method":"GET","host":"api.example.com","path":"` + uPath + `","query":"` + uRedir + `","headers":[{"name":"X-Debug","value":"` + uJWT + `"},{"name":"Referer","value":"` + uRef + `"}]}` + "\n" +
		`{"time":"yesterday","path":"/x","extra":` + uDeepJS + `}` + "\n",
		1},
	// HAR: every place, a JSON body at depth 4; an entry with a bad URL.
	{"har", nil, "a.har", `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[` +
		`{"startedDateTime":"2026-11-21T19:45:00.000Z","time":12,"request":{"method":"POST","url":"https://api.example.com` + uPath + `?` + uRedir + `","httpVersion":"HTTP/1.1","headers":[{"name":"X-Debug","value":"` + uJWT + `"},{"name":"Referer","value":"` + uRef + `"}],"queryString":[],"postData":{"mimeType":"application/json","text":` + jsonString(uDeepOJ) + `}},"response":{"status":200,"content":{"size":0}},"timings":{"wait":12}},` +
		`{"startedDateTime":"2026-11-21T19:45:01.000Z","time":12,"request":{"method":"POST","url":"::bad` + uPath + `?` + uRedir + `","headers":[],"postData":{"mimeType":"application/json","text":` + jsonString(uDeepJS) + `}},"response":{"status":200}}]}}`,
		1},
	// GoReplay: every place and a JSON body at depth 4; a skipped request.
	{"gor", nil, "a.gor", "1 a1 1763754300000000000 0\nPOST " + uPath + "?" + uRedir + " HTTP/1.1\r\nHost: h\r\nReferer: " + uRef + "\r\nX-Debug: " + uJWT + "\r\nContent-Type: application/json\r\nContent-Length: " + itoa(len(uDeepOJ)) + "\r\n\r\n" + uDeepOJ + gorSep +
		"1 a2 1763754301000000000 0\nPOST /x HTTP/9.9\r\nHost: h\r\nContent-Length: " + itoa(len(uDeepJS)) + "\r\n\r\n" + uDeepJS + gorSep,
		1},
}

func jsonString(s string) string { return strings.TrimSuffix(itoa0(s), "\n") }

func itoa0(s string) string {
	b := []byte{'"'}
	for _, c := range []byte(s) {
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return string(append(b, '"'))
}

// TestUnseenCanaries imports each unseen input through the command line and
// searches stderr, the Parquet bytes, every decoded column and surge
// inspect for the secrets: none may be anywhere.
func TestUnseenCanaries(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	for _, tt := range unseenInputs {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, tt.file)
			if err := os.WriteFile(in, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.parquet")
			args := append([]string{"import", tt.format, in, "-o", out}, tt.args...)
			_, stderr, err := surge(t, args...)
			if err != nil {
				t.Fatalf("surge %v: %v\n%s", args, err, stderr)
			}
			noUnseen(t, "stderr", stderr)
			if !strings.Contains(stderr, plural(int64(tt.places), "bad record", "bad records")+" skipped") {
				t.Errorf("stderr %q; want %d bad records skipped (else the test proves nothing)", stderr, tt.places)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			noUnseen(t, "the Parquet file's bytes", string(raw))
			events := eventsJSON(t, out)
			noUnseen(t, "the events", events)
			for _, want := range []string{"/cards/{{secret:", "/charge"} {
				if !strings.Contains(events, want) {
					t.Errorf("events lack %q (the path's other segments must stay)", want)
				}
			}
			for _, args := range [][]string{{"inspect", out}, {"inspect", "--json", out}} {
				text, _, err := surge(t, args...)
				if err != nil {
					t.Fatal(err)
				}
				noUnseen(t, strings.Join(args[:len(args)-1], " "), text)
			}
		})
	}
}

func noUnseen(t *testing.T, where, s string) {
	t.Helper()
	if loc := unseenRE.FindStringIndex(s); loc != nil {
		t.Errorf("a secret in %s: …%s…", where, s[max(0, loc[0]-100):min(len(s), loc[1]+40)])
	}
}

// TestViewsCanaries: the viewing-history importers are importers too: a
// user id is hashed, and a skipped row's secret (in a CSV row and in a JSON
// line, at depth 4) is not quoted anywhere the import leaves.
func TestViewsCanaries(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	tests := []struct{ file, body string }{
		{"v.csv", "user,time,content,type,position_ms,watched_ms,device,region\n" +
			"CANARYviewer0018,2025-03-14T20:00:00Z,tt0111161,start,0,0,tv,eu-west\n" +
			"CANARYviewer0018,yesterday token=" + uDeep + ",tt0111161,start,0,0,tv,eu-west\n"},
		{"v.jsonl", `{"time":"2025-03-14T20:00:00Z","user":"CANARYviewer0018","content":"tt0111161","type":"start"}` + "\n" +
			`{"time":"yesterday","user":"CANARYviewer0018","content":"tt0111161","type":"start","extra":` + uDeepJS + `}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, tt.file)
			if err := os.WriteFile(in, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.parquet")
			_, stderr, err := surge(t, "import", "views", in, "-o", out)
			if err != nil {
				t.Fatalf("import views: %v\n%s", err, stderr)
			}
			noUnseen(t, "stderr", stderr)
			if !strings.Contains(stderr, "1 bad record skipped") {
				t.Errorf("stderr %q; want 1 bad record skipped", stderr)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			noUnseen(t, "the Parquet file's bytes", string(raw))
			for _, args := range [][]string{{"inspect", out}, {"inspect", "--json", out}} {
				text, _, err := surge(t, args...)
				if err != nil {
					t.Fatal(err)
				}
				noUnseen(t, strings.Join(args[:len(args)-1], " "), text)
			}
		})
	}
}
