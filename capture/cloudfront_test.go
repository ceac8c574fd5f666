package capture

import (
	"strings"
	"testing"
	"time"
)

func TestCloudFrontGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/cloudfront/*.log", decodeWith(NewCloudFrontDecoder))
}

func TestCloudFrontTruncations(t *testing.T) {
	testTruncations(t, "testdata/cloudfront/*.log", decodeWith(NewCloudFrontDecoder), nil)
}

func TestCloudFrontErrorsAreShort(t *testing.T) {
	testNoRawLines(t, "testdata/cloudfront/standard.log", NewCloudFrontDecoder)
}

// TestCloudFrontFields checks the documented meaning of one record's fields.
func TestCloudFrontFields(t *testing.T) {
	in := "#Version: 1.0\n#Fields: date time x-edge-location c-ip cs-method cs-uri-stem cs-uri-query sc-status time-taken cs(User-Agent) x-host-header\n" +
		"2026-11-21\t20:00:02\tLHR61-P1\t198.51.100.23\tGET\t/a%2520b\tq=%2522x%2522\t200\t0.250\tMy%20App/1.0\twww.example.com\n"
	got := decodeWith(NewCloudFrontDecoder)(t, []byte(in), "cf.log")
	if len(got) != 1 || got[0].Exchange == nil {
		t.Fatalf("decode = %+v; want one hit", got)
	}
	e := got[0].Exchange
	if want := time.Date(2026, 11, 21, 20, 0, 1, 750e6, time.UTC); !e.Time.Equal(want) {
		t.Errorf("Time = %v; want end minus time-taken %v", e.Time, want)
	}
	if e.Path != "/a%20b" || e.Query != `q=%22x%22` {
		t.Errorf("Path, Query = %q, %q; want CloudFront's escaping undone once", e.Path, e.Query)
	}
	if ua, _ := e.Header("User-Agent"); ua != "My App/1.0" {
		t.Errorf("User-Agent = %q", ua)
	}
	if e.Region != "LHR61-P1" || e.Host != "www.example.com" {
		t.Errorf("Region, Host = %q, %q", e.Region, e.Host)
	}
}

// TestCloudFrontUnescape: table of CloudFront's URL encoding undone.
func TestCloudFrontUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Mozilla/5.0%20(X11)", "Mozilla/5.0 (X11)"}, // spaces
		{"a%2520b", "a%20b"},                         // an escaped % once
		{"100%", "100%"},                             // a lone % stays
		{"%zz%4", "%zz%4"},                           // not hex
		{"x%0Ay", "x%0Ay"},                           // a control byte stays escaped
		{"%E6%97%A5", "日"},                           // UTF-8
		{"%FF", "%FF"},                               // not UTF-8: as written
	}
	for _, tt := range tests {
		if got := cfUnescape(tt.in, isControl); got != tt.want {
			t.Errorf("cfUnescape(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got := cfUnescape("/a%20b%E6%97%A5", notInRequestLine); got != "/a%20b%E6%97%A5" {
		t.Errorf("path escapes of a space and non-ASCII are undone: %q", got)
	}
}

func FuzzCloudFrontDecode(f *testing.F) {
	addSeeds(f, "testdata/cloudfront/*.log")
	addUnseenSeeds(f, "cloudfront")
	f.Add([]byte(strings.ReplaceAll("#Fields: timestamp cs-method cs-uri-stem\n1795291210.5 GET /%\n", " ", "\t")))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, NewCloudFrontDecoder, data) })
}

func BenchmarkCloudFrontDecode(b *testing.B) {
	benchDecoder(b, "testdata/cloudfront/standard.log", NewCloudFrontDecoder)
}
