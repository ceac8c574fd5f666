package replay

import (
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
	method   string
	target   string // path and query, as sent
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
	inflight bool           // handed to the driver (counted until collected)
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
	host  string // Host header of the target
	subst substituter
}

func newPreparer(target *url.URL, accounts []Account) *preparer {
	return &preparer{host: target.Host, subst: substituter{accounts: accounts}}
}

// prepare builds the request r describes, with placeholders substituted for
// its virtual user and Host rewritten to the target.
func (pr *preparer) prepare(r *shaper.Request) *pending {
	e := r.Exchange
	p := &pending{at: r.At, think: r.Think, vsess: r.VirtualSession, method: e.Method, sent: -1, assigned: -1}
	p.target = e.Path
	if e.Query != "" {
		p.target += "?" + pr.subst.replace(e.Query, r.User, "")
	}
	p.headers = make([]schema.Header, 0, len(e.Headers))
	for _, h := range e.Headers {
		if hopHeaders[strings.ToLower(h.Name)] {
			continue
		}
		p.headers = append(p.headers, schema.Header{Name: h.Name, Value: pr.subst.replace(h.Value, r.User, h.Name)})
	}
	if len(e.Body) > 0 {
		p.body = []byte(pr.subst.replace(string(e.Body), r.User, ""))
	}
	p.result = schema.Result{
		Session: r.Session,
		Clone:   r.Clone,
		User:    r.User,
		Seq:     e.Seq,
		Method:  e.Method,
		Route:   report.RouteGroup(e.Method, e.Path),
		Region:  e.Region,
		Device:  e.Device,
		// The recorded status, so the report tells a failure the
		// recording had too from a new one.
		RecordedStatus: int32(e.StatusCode()),
	}
	return p
}

// appendWire appends p as an HTTP/1.1 request to b.
func (pr *preparer) appendWire(b []byte, p *pending) []byte {
	b = append(b, p.method...)
	b = append(b, ' ')
	b = append(b, p.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, pr.host...)
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
	if p.result.User != "" {
		return "u:" + p.result.User
	}
	return "s:" + p.vsess
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
