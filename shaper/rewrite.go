package shaper

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/surge-replay/surge/schema"

	"github.com/surge-replay/surge/internal/keyhash"
)

// ProxyRequest is what a rewrite sees, in the style of
// httputil.ProxyRequest: In is the recorded exchange, shared by every clone
// and read-only; Out is the request to send, a copy of In that rewrites
// change. Out's Headers are Out's own; its Body is In's (never write to it).
type ProxyRequest struct {
	In  *schema.Exchange
	Out *schema.Exchange
	// Virtual is the virtual session the request belongs to: content
	// choices are stable per virtual session.
	Virtual string
	// Class is the session's class label.
	Class string
}

// RewriteSpec is one rewrite of Settings.Rewrites: the edits of the requests
// of a class (or of all), applied in order.
//
//	rewrites:
//	  - class: live
//	    host: staging.example.com
//	    path_prefix: {from: /live/, to: /v2/live/}
//	    set_headers: {X-Replay: surge}
//	    remove_headers: [X-Forwarded-For]
//	    set_query: {cdn: off}
//	    remove_query: [utm_source]
type RewriteSpec struct {
	// Class limits the rewrite to sessions of that class label; empty
	// means every request.
	Class string `json:"class,omitempty"`
	// Host replaces the request's host; empty keeps it.
	Host string `json:"host,omitempty"`
	// PathPrefix replaces a leading From of the path with To.
	PathPrefix *PrefixSpec `json:"path_prefix,omitempty"`
	// SetHeaders sets headers (replacing every value of the name, name
	// without case); RemoveHeaders removes every value of each name.
	SetHeaders    map[string]string `json:"set_headers,omitempty"`
	RemoveHeaders []string          `json:"remove_headers,omitempty"`
	// SetQuery sets query parameters (replacing every value);
	// RemoveQuery removes parameters.
	SetQuery    map[string]string `json:"set_query,omitempty"`
	RemoveQuery []string          `json:"remove_query,omitempty"`
}

// PrefixSpec is a path prefix rewrite.
type PrefixSpec struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ContentSpec maps the content id of recorded requests (the group "id" of
// Pattern, matched against the path, or "path?query" when there is a query)
// to an id drawn from a weighted list, the same for a whole virtual session:
// a clone watching last year's final watches this week's event throughout.
//
//	content:
//	  pattern: "/live/(?P<id>[^/]+)/"
//	  ids: [{id: derby-20271120, weight: 3}, {id: cup-20271121, weight: 1}]
//
// File names a CSV of ids instead (columns id,weight; ReadChoices), read by
// the command that loads the config: the shaper sees IDs only. A pattern
// without ids maps nothing: it only gives "content=" conditions their id.
type ContentSpec struct {
	Pattern string   `json:"pattern"`
	IDs     []Choice `json:"ids,omitempty"`
	File    string   `json:"file,omitempty"`
}

// Choice is an id of a content list and its weight (> 0; relative).
type Choice struct {
	ID     string  `json:"id"`
	Weight float64 `json:"weight"`
}

// Rewriter applies a run's content mapping and rewrites to a request. It is
// immutable once built and safe for concurrent use.
type Rewriter struct {
	content *ContentRule
	ids     []Choice
	cum     []float64 // cumulative weights, normalized to end at 1
	rules   []rewriteRule
	seed    uint64
}

type rewriteRule struct {
	RewriteSpec
	set    []schema.Header // SetHeaders in a fixed order
	remove []string
}

// NewRewriter builds the Rewriter of a content mapping (nil: none) and
// rewrites for seed, or returns every error.
func NewRewriter(content *ContentSpec, rewrites []RewriteSpec, seed uint64) (*Rewriter, error) {
	rw := &Rewriter{seed: seed}
	var errs []string
	if content != nil {
		c, err := NewContentRule(content.Pattern)
		if err != nil {
			errs = append(errs, "content: "+err.Error())
		}
		rw.content = c
		total := 0.0
		for i, ch := range content.IDs {
			if ch.ID == "" || math.IsNaN(ch.Weight) || math.IsInf(ch.Weight, 0) || ch.Weight <= 0 {
				errs = append(errs, fmt.Sprintf("content: ids[%d] %q: want an id and a weight > 0 (weight %v)", i, ch.ID, ch.Weight))
			}
			total += ch.Weight
		}
		if len(content.IDs) == 0 {
			rw.content = nil // a pattern only: content= conditions, no mapping
		}
		sum := 0.0
		for _, ch := range content.IDs {
			sum += ch.Weight
			rw.ids = append(rw.ids, ch)
			rw.cum = append(rw.cum, sum/total)
		}
	}
	for i, r := range rewrites {
		rr := rewriteRule{RewriteSpec: r}
		names := make([]string, 0, len(r.SetHeaders))
		for n := range r.SetHeaders {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			rr.set = append(rr.set, schema.Header{Name: n, Value: r.SetHeaders[n]})
		}
		rr.remove = r.RemoveHeaders
		if r.PathPrefix != nil && !strings.HasPrefix(r.PathPrefix.From, "/") {
			errs = append(errs, fmt.Sprintf("rewrites[%d]: path_prefix from %q must start with /", i, r.PathPrefix.From))
		}
		if r.PathPrefix != nil && !strings.HasPrefix(r.PathPrefix.To, "/") {
			errs = append(errs, fmt.Sprintf("rewrites[%d]: path_prefix to %q must start with /", i, r.PathPrefix.To))
		}
		if strings.ContainsAny(r.Host, "/ ") {
			errs = append(errs, fmt.Sprintf("rewrites[%d]: host %q is not a host[:port]", i, r.Host))
		}
		rw.rules = append(rw.rules, rr)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return rw, nil
}

// Empty reports whether rw changes nothing.
func (rw *Rewriter) Empty() bool { return rw == nil || (rw.content == nil && len(rw.rules) == 0) }

// Choose returns the content id of virtual session virtual: a weighted draw
// keyed by the session and the seed.
func (rw *Rewriter) Choose(virtual string) string {
	u := keyhash.Unit(keyed(domainContent, rw.seed, 0, 0, virtual))
	i, _ := slices.BinarySearch(rw.cum, u)
	if i == len(rw.ids) {
		i--
	}
	return rw.ids[i].ID
}

// Rewrite fills pr.Out from pr.In: the content id replaced, then each
// rewrite of pr.Class in order. It never writes to pr.In; pr.Out must be
// a copy of *pr.In whose Headers may be replaced.
func (rw *Rewriter) Rewrite(pr *ProxyRequest) {
	out := pr.Out
	if rw.content != nil {
		if loc, _ := rw.content.locate(pr.In); loc != nil {
			id := rw.Choose(pr.Virtual)
			if loc[1] <= len(pr.In.Path) {
				out.Path = pr.In.Path[:loc[0]] + id + pr.In.Path[loc[1]:]
			} else { // in the query: "path?query"
				q := pr.In.Query
				a, b := loc[0]-len(pr.In.Path)-1, loc[1]-len(pr.In.Path)-1
				out.Query = q[:a] + url.QueryEscape(id) + q[b:]
			}
		}
	}
	owned := false // out.Headers is a copy of its own
	for i := range rw.rules {
		r := &rw.rules[i]
		if r.Class != "" && r.Class != pr.Class {
			continue
		}
		if r.Host != "" {
			out.Host = r.Host
		}
		if p := r.PathPrefix; p != nil {
			if rest, ok := strings.CutPrefix(out.Path, p.From); ok {
				out.Path = p.To + rest
			}
		}
		if len(r.set) > 0 || len(r.remove) > 0 {
			if !owned {
				out.Headers, owned = slices.Clone(out.Headers), true
			}
			out.Headers = slices.DeleteFunc(out.Headers, func(h schema.Header) bool {
				for _, n := range r.remove {
					if strings.EqualFold(h.Name, n) {
						return true
					}
				}
				for _, s := range r.set {
					if strings.EqualFold(h.Name, s.Name) {
						return true
					}
				}
				return false
			})
			out.Headers = append(out.Headers, r.set...)
		}
		if len(r.SetQuery) > 0 || len(r.RemoveQuery) > 0 {
			q, _ := url.ParseQuery(out.Query)
			for _, n := range r.RemoveQuery {
				delete(q, n)
			}
			for n, v := range r.SetQuery {
				q.Set(n, v)
			}
			out.Query = q.Encode()
		}
	}
}

// ReadChoices parses a content list in CSV: a header line "id,weight" (in
// any column order, names without case), then one id and weight a line. It
// returns every bad line, each with its line number.
func ReadChoices(r io.Reader) ([]Choice, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("content list: header: %v", err)
	}
	idCol, wCol := -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "id":
			idCol = i
		case "weight":
			wCol = i
		}
	}
	if idCol < 0 || wCol < 0 {
		return nil, fmt.Errorf("content list: line 1: want the columns id and weight, have %q", head)
	}
	var out []Choice
	var errs []string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("content list: %v", err)
		}
		if len(rec) <= max(idCol, wCol) {
			errs = append(errs, fmt.Sprintf("line %d: %d fields, want id and weight", line, len(rec)))
			continue
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(rec[wCol]), 64)
		if err != nil || w <= 0 || math.IsInf(w, 0) {
			errs = append(errs, fmt.Sprintf("line %d: weight %q: want a number > 0", line, rec[wCol]))
			continue
		}
		out = append(out, Choice{ID: strings.TrimSpace(rec[idCol]), Weight: w})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("content list: %s", strings.Join(errs, "; "))
	}
	return out, nil
}
