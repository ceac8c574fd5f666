package replay

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// pending is one request on its way: prepared off the hot path, sent by the
// pacer, completed by a driver. Its result is filled as it goes.
type pending struct {
	at       time.Duration // intended send offset
	think    time.Duration // closed loop: recorded gap after the previous response
	vsess    string        // virtual session, for closed-loop runners
	rnet     *regionNet    // its region's way to the target; nil without regions
	method   string
	target   string // path and query, as sent
	host     string // Host to send instead of the target's (a shaper rewrite); "" none
	headers  []schema.Header
	body     []byte
	wire     []byte         // the whole HTTP/1.1 request, for the lean driver
	handed   time.Duration  // when the pacer handed it to the driver (pacer clock)
	assigned time.Duration  // when it got a connection (idle, or one opened for it); -1 until then
	connect  time.Duration  // how long opening its connection took (0: reused)
	conn     string         // schema.ConnNew, schema.ConnReused, or ""
	sent     time.Duration  // when it was written (pacer clock); -1 when never
	end      time.Duration  // when its response ended or it failed
	retry    bool           // sent a second time after a reused connection failed
	cut      bool           // its body was kept in part and is not to be sent
	inflight bool           // handed to the driver (counted until collected)
	halt     string         // stop the run when this request is due (pool exhausted); not sent
	done     func(*pending) // set by the engine: where a completed request goes
	result   schema.Result
}

// hopHeaders are not replayed as recorded: they belong to the recorded
// connection, or are set for the target (Host, Content-Length).
var hopHeaders = map[string]bool{
	"host": true, "connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "te": true, "trailer": true, "upgrade": true,
	"content-length": true,
}

// preparer turns shaped requests into pending requests for one target.
type preparer struct {
	host   string // Host header of the target
	prefix string // the target URL's path without its trailing slash, as escaped
	query  string // the target URL's raw query, merged into every request's
	auth   string // "Basic ..." from the target URL's user info, or ""
	subst  substituter
}

func newPreparer(target *url.URL, accounts []Account) *preparer {
	return newPreparerFor(&Config{Target: target, Accounts: accounts})
}

func newPreparerFor(c *Config) *preparer {
	target := c.Target
	pr := &preparer{host: target.Host, subst: newSubstituter(c.Accounts, c.Secrets, c.SessionIdle)}
	pr.prefix = strings.TrimSuffix(target.EscapedPath(), "/")
	pr.query = target.RawQuery
	if u := target.User; u != nil {
		pass, _ := u.Password()
		pr.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass))
	}
	return pr
}

// requestTarget joins the target's path prefix to the recorded path and
// merges the target's query into the recorded one, both byte-exact: nothing
// is decoded or re-escaped (RFC 9112 §3.2 origin-form).
func (pr *preparer) requestTarget(path, query string) string {
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	t := pr.prefix + path
	if q := mergeQuery(query, pr.query); q != "" {
		t += "?" + q
	}
	return t
}

// mergeQuery returns the recorded raw query with the target's parameters
// added: a recorded parameter the target also names is replaced by the
// target's (the target's tenant wins); every other parameter stays as
// recorded, in order.
func mergeQuery(recorded, target string) string {
	if target == "" {
		return recorded
	}
	if recorded == "" {
		return target
	}
	names := map[string]bool{}
	for _, kv := range strings.Split(target, "&") {
		k, _, _ := strings.Cut(kv, "=")
		names[k] = true
	}
	kept := make([]string, 0, 8)
	for _, kv := range strings.Split(recorded, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if !names[k] {
			kept = append(kept, kv)
		}
	}
	return strings.Join(append(kept, target), "&")
}

// prepare builds the request r describes, with placeholders substituted for
// its virtual user and Host rewritten to the target.
func (pr *preparer) prepare(r *shaper.Request) *pending {
	e := r.Exchange
	p := &pending{at: r.At, think: r.Think, vsess: r.VirtualSession, method: e.Method, sent: -1, assigned: -1, host: r.Host}
	id := identity(r)
	pr.subst.now, pr.subst.req = r.At, r
	p.target = pr.requestTarget(pr.subst.replacePath(e.Path, id), pr.subst.replaceQuery(e.Query, id))
	p.headers = make([]schema.Header, 0, len(e.Headers)+1)
	for _, h := range e.Headers {
		lower := strings.ToLower(h.Name)
		if hopHeaders[lower] || (pr.auth != "" && lower == "authorization") {
			continue
		}
		p.headers = append(p.headers, schema.Header{Name: h.Name, Value: pr.subst.replace(h.Value, id, h.Name)})
	}
	if pr.auth != "" {
		// The target URL's user info is an explicit instruction: it
		// replaces a recorded Authorization (RFC 7617 Basic).
		p.headers = append(p.headers, schema.Header{Name: "Authorization", Value: pr.auth})
	}
	if len(e.Body) > 0 {
		p.body = []byte(pr.subst.replace(string(e.Body), id, ""))
	}
	if err := pr.subst.halt; err != nil {
		p.halt, pr.subst.halt = err.Error(), nil
	}
	p.result = schema.Result{
		Session: r.Session,
		Clone:   r.Clone,
		User:    r.User,
		Seq:     e.Seq,
		Method:  e.Method,
		Route:   report.RouteGroup(e.Method, e.Path),
		Region:  regionOf(r),
		Device:  e.Device,
		// The recorded status, so the report tells a failure the
		// recording had too from a new one.
		RecordedStatus: int32(e.StatusCode()),
	}
	return p
}

// identity is whose cookies and tokens a request carries: its virtual user,
// or for an anonymous session (every HAR and .gor capture) its virtual
// session, so anonymous clones never share an identity.
func identity(r *shaper.Request) string {
	if r.User != "" {
		return r.User
	}
	return "\x00" + r.VirtualSession
}

// appendWire appends p as an HTTP/1.1 request to b.
func (pr *preparer) appendWire(b []byte, p *pending) []byte {
	b = append(b, p.method...)
	b = append(b, ' ')
	b = append(b, p.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	if p.host != "" {
		b = append(b, p.host...) // a shaper rewrite's: the connection still goes to the target
	} else {
		b = append(b, pr.host...)
	}
	b = append(b, "\r\n"...)
	for _, h := range p.headers {
		b = append(b, h.Name...)
		b = append(b, ": "...)
		b = append(b, h.Value...)
		b = append(b, "\r\n"...)
	}
	if len(p.body) > 0 || methodHasBody(p.method) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(p.body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, p.body...)
}

func methodHasBody(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

func (p *pending) retried() bool { return p.retry }

// userKey is the virtual user owning p's connections: its user, or, for an
// anonymous session, the virtual session itself (every virtual session is a
// virtual user; anonymous ones must not collapse into one user "").
func userKey(p *pending) string {
	if p.rnet != nil {
		// With regions, a user's connections are per region too: a
		// connection never carries two regions' requests.
		if p.result.User != "" {
			return "u:" + p.result.User + "\x00" + p.result.Region
		}
		return "s:" + p.vsess + "\x00" + p.result.Region
	}
	if p.result.User != "" {
		return "u:" + p.result.User
	}
	return "s:" + p.vsess
}

// regionOf is the region of r's virtual session: the shaper's (a region
// mix), else the recorded one.
func regionOf(r *shaper.Request) string {
	if r.Region != "" {
		return r.Region
	}
	return r.Exchange.Region
}

// idempotent reports whether method is idempotent (RFC 9110 §9.2.2): only
// such a request may be sent a second time.
func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// assign records that p got a connection now: new (opened for it) or reused.
func (p *pending) assign(now time.Duration, conn string) {
	if p.assigned < 0 {
		p.assigned = now
	}
	p.conn = conn
}

// setRecorded makes req the request p records, for net/http: the request
// target byte-exact (URL.Opaque is written as is, so /promo/50%-off is not
// parsed, rejected or re-escaped), header names as recorded, and no
// User-Agent unless the capture has one (net/http adds Go-http-client/1.1
// unless the header is present; present and empty, it writes none).
// net/http writes headers sorted by name, not in recorded order; the lean
// driver keeps the order.
func setRecorded(req *http.Request, host string, p *pending) {
	path, query, _ := strings.Cut(p.target, "?")
	if strings.HasPrefix(path, "//") {
		// Opaque "//..." would be read as an authority: send the
		// absolute form, which servers must accept (RFC 9112 §3.2.2).
		path = "//" + host + path
	}
	req.URL.Opaque, req.URL.RawQuery, req.URL.Path, req.URL.RawPath = path, query, "", ""
	req.Host = host
	req.Header = make(http.Header, len(p.headers)+1)
	ua := false
	for _, h := range p.headers {
		name := h.Name
		if strings.EqualFold(name, "User-Agent") {
			name, ua = "User-Agent", true
		}
		req.Header[name] = append(req.Header[name], h.Value)
	}
	if !ua {
		req.Header["User-Agent"] = []string{""}
	}
}
