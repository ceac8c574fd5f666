package replay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// dnsServer is a loopback DNS server (miekg/dns) that answers every A
// question for any name with its current answer (NXDOMAIN when it has
// none), and logs what it was asked: how often, the client subnets (EDNS
// Client Subnet) and the source addresses of the queries.
type dnsServer struct {
	addr netip.AddrPort

	mu      sync.Mutex
	answer  netip.Addr
	ttl     uint32
	queries int
	after   func(n int) netip.Addr // when set, the answer after n queries
	ecs     []string
	from    []string
}

func newDNSServer(t *testing.T, answer string, ttl uint32) *dnsServer {
	return newDNSServerAfter(t, answer, ttl, nil)
}

// newDNSServerAfter is newDNSServer whose answer after n queries is
// after(n).
func newDNSServerAfter(t *testing.T, answer string, ttl uint32, after func(n int) netip.Addr) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{answer: netip.MustParseAddr(answer), ttl: ttl, after: after}
	s.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *dnsServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	s.mu.Lock()
	s.queries++
	if s.after != nil {
		s.answer = s.after(s.queries)
	}
	a, ttl := s.answer, s.ttl
	if opt := req.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_SUBNET); ok {
				s.ecs = append(s.ecs, fmt.Sprintf("%s/%d", e.Address, e.SourceNetmask))
			}
		}
	}
	host, _, _ := net.SplitHostPort(w.RemoteAddr().String())
	s.from = append(s.from, host)
	s.mu.Unlock()
	q := req.Question[0]
	switch {
	case !a.IsValid():
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeA && a.Is4():
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: a.AsSlice()})
	}
	w.WriteMsg(m)
}

func (s *dnsServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// regionTargets are two loopback HTTP servers on one port, at 127.0.0.2
// and 127.0.0.3, that count the requests they get (by X-Session), with
// the client addresses they came from.
type regionTargets struct {
	port  int
	tls   bool
	mu    sync.Mutex
	sni   map[string]bool  // TLS server names seen
	proto map[string]bool  // protocols seen
	hits  map[string][]int // target IP → sessions, in arrival order
	peers map[string]map[string]bool
}

func newRegionTargets(t *testing.T) *regionTargets {
	return newRegionTargetsTLS(t, false)
}

// newRegionTargetsTLS is newRegionTargets serving HTTPS (HTTP/2 and
// HTTP/1.1, httptest's certificate) when tls is set.
func newRegionTargetsTLS(t *testing.T, tls bool) *regionTargets {
	t.Helper()
	rt := &regionTargets{tls: tls, hits: map[string][]int{}, peers: map[string]map[string]bool{}, sni: map[string]bool{}, proto: map[string]bool{}}
	var lns []net.Listener
	for try := 0; try < 20 && len(lns) < 2; try++ {
		a, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("no 127.0.0.2 on this machine: %v", err)
		}
		port := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", net.JoinHostPort("127.0.0.3", strconv.Itoa(port)))
		if err != nil {
			a.Close()
			continue
		}
		lns, rt.port = []net.Listener{a, b}, port
	}
	if len(lns) < 2 {
		t.Fatal("could not listen on 127.0.0.2 and 127.0.0.3 at one port")
	}
	for _, ln := range lns {
		ip := ln.Addr().(*net.TCPAddr).IP.String()
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, _ := strconv.Atoi(r.Header.Get("X-Session"))
			peer, _, _ := net.SplitHostPort(r.RemoteAddr)
			rt.mu.Lock()
			if r.TLS != nil {
				rt.sni[r.TLS.ServerName] = true
			}
			rt.proto[r.Proto] = true
			rt.hits[ip] = append(rt.hits[ip], sess)
			if rt.peers[ip] == nil {
				rt.peers[ip] = map[string]bool{}
			}
			rt.peers[ip][peer] = true
			rt.mu.Unlock()
			w.Write([]byte("ok"))
		})
		if tls {
			srv := httptest.NewUnstartedServer(handler)
			srv.Listener.Close()
			srv.Listener, srv.EnableHTTP2 = ln, true
			srv.StartTLS()
			t.Cleanup(srv.Close)
			continue
		}
		srv := &http.Server{Handler: handler}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	return rt
}

func (rt *regionTargets) url() *url.URL {
	scheme := "http"
	if rt.tls {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort("api.surge.test", strconv.Itoa(rt.port))}
}

func (rt *regionTargets) count(ip string) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.hits[ip])
}

// regionSessions makes n sessions of k requests, step apart, session s
// starting at s×gap in region regions[s % len(regions)], each its own
// user.
func regionSessions(n, k int, gap, step time.Duration, regions ...string) *slice {
	var reqs []shaper.Request
	for s := 0; s < n; s++ {
		for i := 0; i < k; i++ {
			e := &schema.Exchange{Method: "GET", Path: "/play/" + strconv.Itoa(i), Seq: int32(i),
				Region:  regions[s%len(regions)],
				Headers: []schema.Header{{Name: "X-Session", Value: strconv.Itoa(s)}}}
			reqs = append(reqs, shaper.Request{At: time.Duration(s)*gap + time.Duration(i)*step,
				Session: "s" + strconv.Itoa(s), VirtualSession: "s" + strconv.Itoa(s), User: "u" + strconv.Itoa(s),
				First: i == 0, Exchange: e})
		}
	}
	slices.SortStableFunc(reqs, func(a, b shaper.Request) int { return int(a.At - b.At) })
	return &slice{reqs: reqs}
}

func region(name string, resolver netip.AddrPort, source, ecs string) Region {
	rg := Region{Name: name, Resolvers: []netip.AddrPort{resolver}}
	if source != "" {
		rg.Source = netip.MustParseAddr(source)
	}
	if ecs != "" {
		rg.ECS = netip.MustParsePrefix(ecs)
	}
	return rg
}

// TestRegionsSplitAtTheTargets: sessions of region eu resolve the target
// through eu's DNS server (which answers 127.0.0.2) from eu's source
// address with eu's client subnet; us's through its own (127.0.0.3); the
// split is counted at the two targets, for both drivers and both
// connection models (a shared pool must not carry one region's request
// on another's connection).
func TestRegionsSplitAtTheTargets(t *testing.T) {
	for _, tc := range []struct {
		driver, conns string
		tls           bool
	}{
		{DriverLean, ConnsPerUser, false}, // each user its connections, per region
		{DriverLean, ConnsShared, false},  // one pool per region
		{DriverHTTP, ConnsPerUser, false}, // net/http: a transport per user and region
		{DriverHTTP, ConnsShared, false},  // net/http: a shared transport per region
		{DriverHTTP, ConnsPerUser, true},  // HTTPS, HTTP/2: the TLS server name stays the target's host
	} {
		name := tc.driver + "/" + tc.conns
		if tc.tls {
			name += "/tls"
		}
		t.Run(name, func(t *testing.T) {
			if tc.driver == DriverLean && !leanSupported {
				t.Skip("lean driver needs Linux")
			}
			rt := newRegionTargetsTLS(t, tc.tls)
			eu := newDNSServer(t, "127.0.0.2", 300)
			us := newDNSServer(t, "127.0.0.3", 300)
			cfg := Config{Target: rt.url(), Driver: tc.driver, Conns: tc.conns, GoClock: true, Insecure: tc.tls, HTTP2: tc.tls,
				Regions: []Region{region("eu", eu.addr, "127.0.0.5", "198.51.100.77/24"), region("us", us.addr, "", "")}}
			const n, k = 30, 3
			res, st, err := collect(t, cfg, regionSessions(n, k, 5*time.Millisecond, 2*time.Millisecond, "eu", "us"), nil)
			if err != nil {
				t.Fatal(err)
			}
			byRegion := map[string]int{}
			for _, r := range res {
				if r.Error != "" || r.Status != 200 {
					t.Fatalf("result %+v: want 200", r)
				}
				byRegion[r.Region]++
			}
			want := n / 2 * k
			if got := rt.count("127.0.0.2"); got != want || byRegion["eu"] != want {
				t.Errorf("127.0.0.2 got %d requests, results of eu %d; want %d (eu)", got, byRegion["eu"], want)
			}
			if got := rt.count("127.0.0.3"); got != want || byRegion["us"] != want {
				t.Errorf("127.0.0.3 got %d requests, results of us %d; want %d (us)", got, byRegion["us"], want)
			}
			rt.mu.Lock()
			for ip, sessions := range rt.hits {
				for _, s := range sessions {
					if wantIP := []string{"127.0.0.2", "127.0.0.3"}[s%2]; ip != wantIP {
						t.Errorf("session %d (region %s) reached %s", s, []string{"eu", "us"}[s%2], ip)
					}
				}
			}
			if !rt.peers["127.0.0.2"]["127.0.0.5"] || len(rt.peers["127.0.0.2"]) != 1 {
				t.Errorf("127.0.0.2 saw clients %v; want only eu's source 127.0.0.5", rt.peers["127.0.0.2"])
			}
			if tc.tls && (!rt.sni["api.surge.test"] || len(rt.sni) != 1 || !rt.proto["HTTP/2.0"]) {
				t.Errorf("TLS server names %v, protocols %v; want api.surge.test over HTTP/2.0", rt.sni, rt.proto)
			}
			rt.mu.Unlock()
			eu.mu.Lock()
			if len(eu.ecs) == 0 || eu.ecs[0] != "198.51.100.0/24" || eu.from[0] != "127.0.0.5" {
				t.Errorf("eu's DNS server saw subnets %v from %v; want 198.51.100.0/24 from 127.0.0.5", eu.ecs, eu.from)
			}
			eu.mu.Unlock()
			if len(us.ecs) != 0 {
				t.Errorf("us's DNS server saw subnets %v; want none", us.ecs)
			}
			// A TTL of 300 s: the start's lookup serves the whole run.
			if eu.count() != 1 || us.count() != 1 || st.DNS["eu"].Queries != 1 {
				t.Errorf("queries eu %d, us %d, stats %+v; want 1 each", eu.count(), us.count(), st.DNS)
			}
		})
	}
}

// TestRegionsTTL: the cache follows the records' TTL (a 1 s TTL expires
// mid-run and the new answer is used from then on), or ignores it as
// dns.ttl says: inf keeps the first answer, 0 asks on every connection.
// The server answers 127.0.0.2 to its first query (the start's check) and
// 127.0.0.3 after.
func TestRegionsTTL(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ttl      time.Duration
		gap      time.Duration // between sessions
		want2    bool          // some sessions reach 127.0.0.2
		want3    bool          // some reach 127.0.0.3
		queries  func(q, sessions int) bool
		describe string
	}{
		// The records' 1 s TTL: the first second's sessions reach .2, later ones .3.
		{"record", DNSTTLRecord, 100 * time.Millisecond, true, true, func(q, n int) bool { return q >= 2 && q < n }, "2 or more, fewer than sessions"},
		// inf: the first answer for the whole run.
		{"inf", DNSTTLForever, 10 * time.Millisecond, true, false, func(q, n int) bool { return q == 1 }, "1"},
		// A fixed 1 h: the same as inf for this run.
		{"1h", time.Hour, 10 * time.Millisecond, true, false, func(q, n int) bool { return q == 1 }, "1"},
		// 0: every new connection asks (lookups at once share a query),
		// so every session gets the new answer.
		{"0", DNSTTLNone, 10 * time.Millisecond, false, true, func(q, n int) bool { return q > 1 && q <= n+1 }, "more than the start's, one per session at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, driver := range []string{DriverLean, DriverHTTP} {
				if driver == DriverLean && !leanSupported {
					continue
				}
				rt := newRegionTargets(t)
				srv := newDNSServerAfter(t, "127.0.0.2", 1, func(n int) netip.Addr {
					if n == 1 {
						return netip.MustParseAddr("127.0.0.2")
					}
					return netip.MustParseAddr("127.0.0.3")
				})
				cfg := Config{Target: rt.url(), Driver: driver, GoClock: true, DNSTTL: tc.ttl,
					Regions: []Region{region("eu", srv.addr, "", "")}}
				const n = 25 // at 100 ms apart, 2.4 s: past the 1 s TTL
				res, _, err := collect(t, cfg, regionSessions(n, 1, tc.gap, 0, "eu"), nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					if r.Error != "" {
						t.Fatalf("%s: result %+v: want no error", driver, r)
					}
				}
				n2, n3 := rt.count("127.0.0.2"), rt.count("127.0.0.3")
				if n2+n3 != n || (n2 > 0) != tc.want2 || (n3 > 0) != tc.want3 {
					t.Errorf("%s: 127.0.0.2 got %d, 127.0.0.3 %d of %d; want some at .2 %v, at .3 %v", driver, n2, n3, n, tc.want2, tc.want3)
				}
				if q := srv.count(); !tc.queries(q, n) {
					t.Errorf("%s: %d queries; want %s", driver, q, tc.describe)
				}
				// Once a session reached the new address, no later one
				// reaches the old.
				rt.mu.Lock()
				first3 := slices.Min(append([]int{n}, rt.hits["127.0.0.3"]...))
				for _, s := range rt.hits["127.0.0.2"] {
					if s > first3 {
						t.Errorf("%s: session %d reached 127.0.0.2 after session %d reached 127.0.0.3", driver, s, first3)
					}
				}
				rt.mu.Unlock()
			}
		})
	}
}

// TestRegionsDNSErrors: a region whose resolver stops answering with an
// address (NXDOMAIN, or an address off the allowlist) fails its requests
// with the class dns, never the target's classes, and sends nothing to
// an address off the allowlist.
func TestRegionsDNSErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		next   string // the answer after the first query; "" NXDOMAIN
		detail string
	}{
		{"nxdomain", "", "nxdomain"},                               // the name is gone
		{"not allowed", "203.0.113.7", "not allowed: 203.0.113.7"}, // a non-loopback answer is refused
	} {
		for _, driver := range []string{DriverLean, DriverHTTP} {
			if driver == DriverLean && !leanSupported {
				continue
			}
			t.Run(tc.name+"/"+driver, func(t *testing.T) {
				rt := newRegionTargets(t)
				// TTL 0: the start's answer is not cached.
				srv := newDNSServerAfter(t, "127.0.0.2", 0, func(n int) netip.Addr {
					if n == 1 {
						return netip.MustParseAddr("127.0.0.2")
					}
					a, _ := netip.ParseAddr(tc.next)
					return a
				})
				cfg := Config{Target: rt.url(), Driver: driver, GoClock: true,
					Regions: []Region{region("eu", srv.addr, "", "")}}
				res, _, err := collect(t, cfg, regionSessions(5, 1, 10*time.Millisecond, 0, "eu"), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != 5 {
					t.Fatalf("%d results; want 5", len(res))
				}
				for _, r := range res {
					if r.Error != schema.ErrDNS || r.Detail != tc.detail || r.Region != "eu" {
						t.Errorf("result error %q detail %q region %q; want dns, %q, eu", r.Error, r.Detail, r.Region, tc.detail)
					}
				}
				if n := rt.count("127.0.0.2") + rt.count("127.0.0.3"); n != 0 {
					t.Errorf("the targets got %d requests; want none", n)
				}
			})
		}
	}
}

// TestRegionsSafetyAtStart: nothing is sent when a region's resolver is
// not loopback (not even a query), or its answer at the start is off the
// allowlist.
func TestRegionsSafetyAtStart(t *testing.T) {
	rt := newRegionTargets(t)
	far := newDNSServer(t, "203.0.113.7", 60)
	for _, tc := range []struct {
		name string
		rg   Region
		want string
	}{
		{"resolver not loopback", region("eu", netip.MustParseAddrPort("192.0.2.53:53"), "", ""), "regions: eu: resolver 192.0.2.53:53 is not on the allowlist"},
		{"answer not loopback", region("eu", far.addr, "", ""), "regions: region eu: resolving api.surge.test: not allowed: 203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Target: rt.url(), GoClock: true, Regions: []Region{tc.rg}}
			if !tc.rg.Resolvers[0].Addr().IsLoopback() {
				// Should the check fail, no query may leave loopback.
				cfg.testExchange = func(context.Context, *dns.Msg, netip.AddrPort) (*dns.Msg, error) {
					t.Error("a query was sent to a resolver not allowed")
					return nil, errors.New("refused by the test")
				}
			}
			_, _, err := collect(t, cfg, regionSessions(2, 1, time.Millisecond, 0, "eu"), nil)
			if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v; want ErrNotAllowed, %q", err, tc.want)
			}
			// A resolver off the allowlist is the config's fault, not the target's.
			if tc.name == "resolver not loopback" && strings.Contains(err.Error(), ErrNotAllowed.Error()) {
				t.Errorf("Run = %v; blames the target for a resolver", err)
			}
		})
	}
	if n := rt.count("127.0.0.2") + rt.count("127.0.0.3"); n != 0 {
		t.Errorf("the targets got %d requests; want none", n)
	}
}

// TestRegionsOtherSessions: sessions of no listed region use the region
// named default when there is one, else the machine's resolver, and fail
// as dns errors when that cannot resolve the target.
func TestRegionsOtherSessions(t *testing.T) {
	rt := newRegionTargets(t)
	eu := newDNSServer(t, "127.0.0.2", 300)
	def := newDNSServer(t, "127.0.0.3", 300)
	cfg := Config{Target: rt.url(), GoClock: true,
		Regions: []Region{region("eu", eu.addr, "", ""), region(DefaultRegion, def.addr, "", "")}}
	res, _, err := collect(t, cfg, regionSessions(4, 1, time.Millisecond, 0, "eu", "mars"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rt.count("127.0.0.2") != 2 || rt.count("127.0.0.3") != 2 {
		t.Errorf("targets got %d and %d; want 2 and 2", rt.count("127.0.0.2"), rt.count("127.0.0.3"))
	}
	// Without default: the machine cannot resolve api.surge.test.
	cfg.Regions = cfg.Regions[:1]
	res, _, err = collect(t, cfg, regionSessions(4, 1, time.Millisecond, 0, "eu", "mars"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Region == "mars" && r.Error != schema.ErrDNS {
			t.Errorf("mars session: error %q (%s); want dns", r.Error, r.Detail)
		}
		if r.Region == "eu" && r.Error != "" {
			t.Errorf("eu session: error %q (%s); want none", r.Error, r.Detail)
		}
	}
}

// fakeDNS answers A questions with addr and ttl, counting queries.
type fakeDNS struct {
	mu   sync.Mutex
	addr netip.Addr
	ttl  uint32
	n    int
}

func (f *fakeDNS) exchange(_ context.Context, m *dns.Msg, _ netip.AddrPort) (*dns.Msg, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	r := new(dns.Msg)
	r.SetReply(m)
	if m.Question[0].Qtype == dns.TypeA {
		r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: f.ttl}, A: f.addr.AsSlice()})
	}
	return r, nil
}

// TestResolverCache: how long an answer is kept, by TTL mode, on a clock
// the test moves.
func TestResolverCache(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		steps   []time.Duration // clock advances before each lookup after the first
		queries int
	}{
		{"record ttl 10s", DNSTTLRecord, []time.Duration{5 * time.Second, 4 * time.Second, 2 * time.Second}, 2}, // expires at 10 s
		{"fixed 3s", 3 * time.Second, []time.Duration{2 * time.Second, 2 * time.Second, time.Second}, 2},        // expires at 3 s
		{"inf", DNSTTLForever, []time.Duration{time.Hour, 24 * time.Hour}, 1},                                   // never expires
		{"none", DNSTTLNone, []time.Duration{0, 0}, 3},                                                          // never cached
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDNS{addr: netip.MustParseAddr("127.0.0.2"), ttl: 10}
			now := time.Unix(1_800_000_000, 0)
			r := newResolver(context.Background(), region("eu", netip.MustParseAddrPort("127.0.0.1:53"), "", ""), "api.surge.test", 8080, tc.ttl, nil)
			r.exchange, r.now = f.exchange, func() time.Time { return now }
			for i := 0; i <= len(tc.steps); i++ {
				if i > 0 {
					now = now.Add(tc.steps[i-1])
				}
				ap, err := r.lookup(context.Background())
				if err != nil || ap != netip.MustParseAddrPort("127.0.0.2:8080") {
					t.Fatalf("lookup %d = %v, %v; want 127.0.0.2:8080", i, ap, err)
				}
			}
			if f.n != tc.queries {
				t.Errorf("%d queries; want %d", f.n, tc.queries)
			}
		})
	}
}

// TestResolverAllowlist: an answer is checked against the allowlist; one
// allowed by a prefix passes (no connection is made here).
func TestResolverAllowlist(t *testing.T) {
	f := &fakeDNS{addr: netip.MustParseAddr("203.0.113.7"), ttl: 60}
	byName, prefixes := allowList("api.surge.test", []string{"203.0.113.0/24"})
	r := newResolver(context.Background(), region("eu", netip.MustParseAddrPort("127.0.0.1:53"), "", ""), "api.surge.test", 80, 0,
		func(a netip.Addr) bool { return byName || allowed(a, prefixes) })
	r.exchange = f.exchange
	if ap, err := r.lookup(context.Background()); err != nil || ap.Addr() != f.addr {
		t.Errorf("allowed by prefix: lookup = %v, %v; want 203.0.113.7", ap, err)
	}
	r = newResolver(context.Background(), region("eu", netip.MustParseAddrPort("127.0.0.1:53"), "", ""), "api.surge.test", 80, 0,
		func(a netip.Addr) bool { return allowed(a, nil) })
	r.exchange = f.exchange
	var re *ResolveError
	if _, err := r.lookup(context.Background()); !errors.As(err, &re) || re.Reason != "not allowed: 203.0.113.7" || !errors.Is(err, ErrNotAllowed) {
		t.Errorf("loopback only: lookup error = %v; want not allowed: 203.0.113.7", err)
	}
}

// BenchmarkRegionCachedLookup is the cost of a new connection's address
// when its region's answer is cached: no allocation.
func BenchmarkRegionCachedLookup(b *testing.B) {
	f := &fakeDNS{addr: netip.MustParseAddr("127.0.0.2"), ttl: 3600}
	r := newResolver(context.Background(), region("eu", netip.MustParseAddrPort("127.0.0.1:53"), "", ""), "api.surge.test", 80, 0, nil)
	r.exchange = f.exchange
	n := &regionNet{name: "eu", res: r}
	ctx := context.Background()
	if _, err := n.addr(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := n.addr(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
