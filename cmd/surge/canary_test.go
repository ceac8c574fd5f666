package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// Canary secrets, one per place a record can hold one. Each holds "CANARY",
// which no placeholder or keyed hash (hex digits) can contain.
const (
	cHeader  = "CANARYhdr0001"                                                // Authorization: Bearer
	cValue   = "AKIACANARYHDR0000002"                                         // an AWS key id in a header of no secret name
	cCookie  = "CANARYck0003"                                                 // a cookie value
	cQuery   = "CANARYqry0004"                                                // api_key=
	cUser    = "CANARYusr0005"                                                // user= (a user id)
	cPath    = "ghp_CANARYpath00000000000000000000000006"                     // a GitHub token as a path segment
	cForm    = "CANARYform0007"                                               // password= in a form body
	cJSON    = "CANARYjson0008"                                               // client_secret at depth in a JSON body
	cSkipped = "CANARYskip0009"                                               // access_token= in a line the decoder skips
	cBad     = "CANARYbad0010"                                                // private_token= in a malformed line
	cCut     = "CANARYcut0011"                                                // token= in a line cut at EOF
	cJWT     = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.CANARYjwtsig0012" // a JWT in the referer
)

var canaryRE = regexp.MustCompile(`CANARY|Q0FOQVJZ|eyJzdWIiOiJDQU5BUlkifQ`)

const canaryQuery = "api_key=" + cQuery + "&user=" + cUser + "&page=2"

// canaryInputs builds one input per importer holding every canary the
// format can carry. Each row is keyed by format; a new importer (apache,
// alb, cloudfront, envoy, caddy) is added here with one row.
var canaryInputs = []struct {
	format string
	args   []string // more import arguments
	file   string   // input file name
	body   string   // input file content
	places int      // how many bad records must have been skipped
}{
	// Combined: path, query, referer (JWT) and agent (key id); a skipped
	// line (bad protocol), a malformed line, a line cut at EOF.
	{"combined", nil, "a.log", "" +
		`192.0.2.1 - - [21/Nov/2026:19:45:00 +0000] "GET /files/` + cPath + `?` + canaryQuery + ` HTTP/1.1" 200 5 "https://x.example/?t=` + cJWT + `" "agent ` + cValue + `"` + "\n" +
		`192.0.2.2 - - [21/Nov/2026:19:45:01 +0000] "GET /x?access_token=` + cSkipped + ` HTTP/9.9" 200 5 "-" "-"` + "\n" +
		`junk private_token=` + cBad + "\n" +
		`192.0.2.3 - - [21/Nov/2026:19:45:02 +0000] "GET /y?token=` + cCut,
		3},
	// nginx with header and cookie fields and the request body.
	{"nginx", []string{"--log-format", `$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_authorization" "$http_cookie" "$http_x_trace" "$request_body"`}, "n.log", "" +
		`192.0.2.1 [21/Nov/2026:19:45:00 +0000] "POST /files/` + cPath + `?` + canaryQuery + ` HTTP/1.1" 200 5 "Bearer ` + cHeader + `" "sid=` + cCookie + `; theme=dark" "` + cValue + `" "password=` + cForm + `&x=1"` + "\n" +
		`192.0.2.2 [21/Nov/2026:19:45:01 +0000] "GET /x?access_token=` + cSkipped + ` HTTP/9.9" 200 5 "-" "-" "-" "-"` + "\n" +
		`junk private_token=` + cBad + "\n" +
		`192.0.2.3 [21/Nov/2026:19:45:02 +0000] "GET /y?token=` + cCut,
		3},
	// HAR: headers, cookies, query, path, JSON body; an entry with a bad URL.
	{"har", nil, "a.har", `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[` +
		harEntry("https://api.example.com/files/"+cPath+"?"+canaryQuery, `{"a":{"b":[{"n":1,"client_secret":"`+cJSON+`"}]}}`) + "," +
		harEntry("::not a url?access_token="+cSkipped, "") + `]}}`,
		1},
	// GoReplay: a request with every canary, and a bad request line.
	{"gor", nil, "a.gor", gorRecord("POST /files/"+cPath+"?"+canaryQuery+" HTTP/1.1", "application/x-www-form-urlencoded", "password="+cForm+"&x=1") +
		gorRecord("GET /x?access_token="+cSkipped+" HTTP/9.9", "", "") +
		"1 bad0 1763754301000000000 0\nprivate_token=" + cBad + "\n" + gorSep,
		2},
	// Apache LogFormat with header and cookie fields; a malformed line and a
	// line cut at EOF.
	{"apache", []string{"--log-format", `%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{Authorization}i\" \"%{Cookie}i\" \"%{X-Trace}i\"`}, "ap.log", "" +
		`192.0.2.1 - - [21/Nov/2026:19:45:00 +0000] "GET /files/` + cPath + `?` + canaryQuery + ` HTTP/1.1" 200 5 "https://x.example/?t=` + cJWT + `" "Bearer ` + cHeader + `" "sid=` + cCookie + `" "` + cValue + `"` + "\n" +
		`junk private_token=` + cBad + "\n" +
		`192.0.2.3 - - [21/Nov/2026:19:45:02 +0000] "GET /y?token=` + cCut,
		2},
	// Caddy JSON: headers (Authorization, Cookie, a key id), query, path; a
	// malformed line.
	{"caddy", nil, "c.log", `{"level":"info","ts":1763754300.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"192.0.2.1","proto":"HTTP/1.1","method":"GET","host":"api.example.com","uri":"/files/` + cPath + `?` + canaryQuery + `","headers":{"Authorization":["Bearer ` + cHeader + `"],"Cookie":["sid=` + cCookie + `"],"X-Trace":["` + cValue + `"],"Referer":["https://x/?t=` + cJWT + `"]}},"duration":0.012,"size":5,"status":200}` + "\n" +
		`{"level":"info","ts":"bad private_token=` + cBad + `","logger":"http.log.access"}` + "\n",
		1},
	// AWS ALB: path, query, agent (key id); a malformed line.
	{"alb", nil, "alb.log", `https 2026-11-21T20:00:02.186641Z app/lb/50dc6c495c0c9188 198.51.100.7:40211 192.0.2.10:80 0.086 0.048 0.037 200 200 712 5791 "GET https://api.example.com:443/files/` + cPath + `?` + canaryQuery + ` HTTP/1.1" "agent ` + cValue + `" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "api.example.com" "-" 1 2026-11-21T20:00:02.015000Z "forward" "-" "-" "192.0.2.10:80" "200" "-" "-"` + "\n" +
		`https junk private_token=` + cBad + "\n",
		1},
	// CloudFront standard logs: path, query, cookie, referer (JWT), agent;
	// a malformed row.
	{"cloudfront", nil, "cf.log", "#Version: 1.0\n" +
		"#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n" +
		"2026-11-21\t20:00:01\tIAD89-C3\t335\t192.0.2.159\tGET\td111111abcdef8.cloudfront.net\t/files/" + cPath + "\t200\thttps://x.example/?t=" + cJWT + "\tagent%20" + cValue + "\t" + canaryQuery + "\tsid=" + cCookie + "\tMiss\tid1\twww.example.com\thttps\t123\t0.338\n" +
		"2026-11-21\tjunk\tprivate_token=" + cBad + "\n",
		1},
	// Envoy's default format: path, query, agent; a malformed line.
	{"envoy", nil, "envoy.log", `[2026-11-21T20:00:01.310Z] "GET /files/` + cPath + `?` + canaryQuery + ` HTTP/1.1" 200 - 0 2451 12 11 "198.51.100.7" "agent ` + cValue + `" "5f1a2b3c-9d8e-4f7a-8b6c-1d2e3f4a5b6c" "api.example.com" "192.0.2.17:8080"` + "\n" +
		`[junk private_token=` + cBad + "\n",
		1},
	// surge's JSON lines: every field, a bad record, a line cut at EOF.
	{"jsonl", nil, "a.jsonl", jsonlRecord() + "\n" +
		`{"time":"yesterday","path":"/x?access_token=` + cSkipped + `"}` + "\n" +
		`{"time":"2026-11-21T19:45:02Z","method":"GET","path":"/y","query":"token=` + cCut,
		2},
}

func harEntry(url, body string) string {
	post := ""
	if body != "" {
		b, _ := json.Marshal(body)
		post = `,"postData":{"mimeType":"application/json","text":` + string(b) + `}`
	}
	return `{"startedDateTime":"2026-11-21T19:45:00.000Z","time":12,"request":{"method":"POST","url":"` + url + `","httpVersion":"HTTP/1.1",` +
		`"headers":[{"name":"Authorization","value":"Bearer ` + cHeader + `"},{"name":"Cookie","value":"sid=` + cCookie + `"},{"name":"X-Trace","value":"` + cValue + `"}],` +
		`"cookies":[{"name":"sid","value":"` + cCookie + `"}],"queryString":[],"headersSize":-1,"bodySize":-1` + post + `},` +
		`"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":0,"mimeType":"text/plain"},"redirectURL":"","headersSize":-1,"bodySize":0},` +
		`"cache":{},"timings":{"send":0,"wait":12,"receive":0}}`
}

const gorSep = "\n\U0001F435\U0001F648\U0001F649\n"

func gorRecord(requestLine, contentType, body string) string {
	h := requestLine + "\r\nHost: api.example.com\r\nAuthorization: Bearer " + cHeader + "\r\nCookie: sid=" + cCookie + "\r\nX-Trace: " + cValue + "\r\n"
	if contentType != "" {
		h += "Content-Type: " + contentType + "\r\nContent-Length: " + itoa(len(body)) + "\r\n"
	}
	return "1 a1b2c3d4e5f60001 1763754300000000000 0\n" + h + "\r\n" + body + gorSep
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func jsonlRecord() string {
	body := base64.StdEncoding.EncodeToString([]byte(`{"a":{"b":[{"n":1,"client_secret":"` + cJSON + `"}]}}`))
	return `{"time":"2026-11-21T19:45:00Z","user_id":"` + cUser + `","method":"POST","host":"api.example.com","path":"/files/` + cPath + `","query":"` + canaryQuery + `",` +
		`"headers":[{"name":"Authorization","value":"Bearer ` + cHeader + `"},{"name":"Cookie","value":"sid=` + cCookie + `"},{"name":"X-Trace","value":"` + cValue + `"},{"name":"Referer","value":"https://x/?t=` + cJWT + `"},{"name":"Content-Type","value":"application/json"}],` +
		`"body":"` + body + `","status":200}`
}

// TestCanaries imports a canary in every place a record can hold one, for
// every importer, through the command line, and searches everything the
// import leaves: stderr, the error, every decoded column of every event, the
// Parquet file's bytes (its metadata are stored plain), and surge inspect's
// text and JSON. No canary may be anywhere.
func TestCanaries(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	for _, tt := range canaryInputs {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, tt.file)
			if err := os.WriteFile(in, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.parquet")
			args := append([]string{"import", tt.format, in, "-o", out, "--reorder-window", "-1s"}, tt.args...)
			_, stderr, err := surge(t, args...)
			if err != nil {
				t.Fatalf("surge %v: %v\n%s", args, err, stderr)
			}
			noCanary(t, "stderr", stderr)
			if !strings.Contains(stderr, plural(int64(tt.places), "bad record", "bad records")+" skipped") {
				t.Errorf("stderr %q; want %d bad records skipped (else the test proves nothing)", stderr, tt.places)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			noCanary(t, "the Parquet file's bytes", string(raw))
			noCanary(t, "the events", eventsJSON(t, out))
			text, _, err := surge(t, "inspect", out)
			if err != nil {
				t.Fatal(err)
			}
			noCanary(t, "inspect", text)
			js, _, err := surge(t, "inspect", "--json", out)
			if err != nil {
				t.Fatal(err)
			}
			noCanary(t, "inspect --json", js)
			if !strings.Contains(js, `"problems"`) {
				t.Errorf("inspect --json shows no problems; want the skipped records")
			}
		})
	}
}

// TestCanaryCutFile: a HAR or GoReplay file cut short fails or skips with a
// message that holds no canary.
func TestCanaryCutFile(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	for _, tt := range canaryInputs {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, tt.file)
			// Cut inside the first record's secrets.
			cut := strings.Index(tt.body, cHeader)
			if cut < 0 {
				cut = strings.Index(tt.body, cQuery)
			}
			os.WriteFile(in, []byte(tt.body[:cut+6]), 0o644)
			args := append([]string{"import", tt.format, in, "-o", filepath.Join(dir, "o.parquet")}, tt.args...)
			_, stderr, err := surge(t, args...)
			noCanary(t, "stderr", stderr)
			if err != nil {
				noCanary(t, "the error", err.Error())
			}
		})
	}
}

func noCanary(t *testing.T, where, s string) {
	t.Helper()
	if loc := canaryRE.FindStringIndex(s); loc != nil {
		t.Errorf("a canary in %s: …%s…", where, s[max(0, loc[0]-80):min(len(s), loc[1]+40)])
	}
}

// eventsJSON is every event of a file, all columns decoded, as JSON.
func eventsJSON(t *testing.T, path string) string {
	t.Helper()
	rd, err := eventlog.Open[schema.Exchange]([]string{path}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var b bytes.Buffer
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(e)
		b.Write(j)
		b.WriteString(string(e.Body)) // the body raw too, not only base64
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		t.Fatal("no events")
	}
	return b.String()
}
