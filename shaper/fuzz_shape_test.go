package shaper_test

import (
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// FuzzParseCond: any string parses or errors; a parsed condition matches
// any exchange without panicking and prints as written.
func FuzzParseCond(f *testing.F) {
	for _, s := range []string{"path=/live/**", "path~^/a/(b|c)", "header.X-Client=tv", "query.q=*", "host=*.example.?om", "path=/a/**/b/*"} {
		f.Add(s, "/live/1/x", "q=1&q=2")
	}
	f.Fuzz(func(t *testing.T, s, path, query string) {
		c, err := shaper.ParseCond(s)
		if err != nil {
			return
		}
		if c.String() != strings.TrimSpace(s[:strings.IndexAny(s, "=~")])+s[strings.IndexAny(s, "=~"):] {
			t.Errorf("ParseCond(%q).String() = %q", s, c.String())
		}
		e := &schema.Exchange{Path: path, Query: query, Host: path, Headers: []schema.Header{{Name: "x-client", Value: query}}}
		c.Matches(e, query)
	})
}

// FuzzDecodeSettings: any JSON decodes or errors, and decoded settings
// compile or error, never panic; an error is said in the user's words
// (CheckShape lets through nothing encoding/json refuses).
func FuzzDecodeSettings(f *testing.F) {
	f.Add(`{"ratio": 2, "ratios": [{"match": "path=/live/**", "ratio": 10, "curves": [{"step": [{"at": "+1m", "value": 2}]}]}]}`)
	f.Add(`{"curves": [{"spike": {"at": "20:00:00Z", "peak": 3, "rise": "30s", "fall": 60}}], "exits": [{"fraction": 0.2}]}`)
	f.Add(`{"content": {"pattern": "/live/(?P<id>[^/]+)/", "ids": [{"id": "a", "weight": 1}]}, "rewrites": [{"host": "x"}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		s, err := shaper.DecodeSettings([]byte(data))
		if err != nil {
			if m := err.Error(); strings.Contains(m, "Go struct") || (strings.Contains(m, "json:") && !strings.HasPrefix(m, "not JSON")) {
				t.Errorf("DecodeSettings(%q) = %v: the decoder's words", data, err)
			}
			return
		}
		s.Validate()
		s.Classes(base, 1)
		shaper.NewRewriter(s.Content, s.Rewrites, 1)
	})
}

// FuzzReadChoices: any CSV parses or errors; parsed weights are positive.
func FuzzReadChoices(f *testing.F) {
	f.Add("id,weight\nderby,3\ncup,1\n")
	f.Add("weight,id\n0.5,x\n")
	f.Fuzz(func(t *testing.T, data string) {
		ch, err := shaper.ReadChoices(strings.NewReader(data))
		if err != nil {
			return
		}
		for _, c := range ch {
			if !(c.Weight > 0) {
				t.Errorf("ReadChoices(%q): weight %v", data, c.Weight)
			}
		}
	})
}
