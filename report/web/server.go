// Package web serves a running replay over HTTP on one listener: its
// Prometheus metrics (/metrics), a live view of the HTML report's charts
// updated every second over server-sent events (/, /events), the run's
// status (/status) and the run's control: stop (POST /control/stop) and,
// when the run is under live control, the control API (replay.ControlHandler)
// under /control/v1/run — pause, resume, ratio — which the live page's
// buttons call.
//
// The listener is on loopback by default; on any other address a token is
// required (Authorization: Bearer TOKEN, or ?token=TOKEN for the page and
// its event stream, which a browser cannot give headers).
package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/surge-replay/surge/report"
)

// Errors of Server.Start.
var (
	// ErrTokenRequired means the address is not loopback and no token was
	// given.
	ErrTokenRequired = errors.New("web: a token is required to listen beyond loopback (--web-token or SURGE_REPLAY_WEB_TOKEN)")
)

// Server is the run's web listener. Fill its fields, then Start it; End
// tells the live pages the run is over; Close stops it. Its handlers are
// safe for concurrent use.
type Server struct {
	// Addr is the host:port to listen on (port 0: any free port).
	Addr string
	// Token, when set, is required of every request; required when Addr is
	// not loopback.
	Token string
	// Metrics are served on /metrics; nil serves none.
	Metrics *Metrics
	// Page returns the report as it stands (a summary and the series so
	// far); the live page and each event render it.
	Page func() *report.HTMLReport
	// Stop stops the run gracefully (the stop a Ctrl-C makes); nil means
	// the run cannot be stopped from here (404). SetStop sets it once the
	// server runs.
	Stop func()
	// Every is how often the live view updates (zero: 1 s).
	Every time.Duration
	// Control serves the run's control API (replay.ControlHandler: GET and
	// PATCH /v1/run, POST /v1/run/pause, …) under /control, so that the live
	// page's pause, resume and ratio controls reach it; nil when the run has
	// no live control (404). SetControl sets it once the server runs.
	Control http.Handler

	ln    net.Listener
	srv   *http.Server
	ended chan struct{}
	once  sync.Once
	mu    sync.Mutex
	state string
}

// Start listens on s.Addr and serves in the background. The error names the
// address when it cannot listen, and is ErrTokenRequired for a non-loopback
// address without a token.
func (s *Server) Start() error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("web: address %q: %w (want host:port, e.g. 127.0.0.1:5665)", s.Addr, err)
	}
	if !isLoopback(host) && s.Token == "" {
		return ErrTokenRequired
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w", s.Addr, err)
	}
	s.ln, s.ended = ln, make(chan struct{})
	mux := http.NewServeMux()
	if s.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	}
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("GET /status", s.status)
	mux.HandleFunc("POST /control/stop", s.stop)
	mux.Handle("/control/v1/", http.StripPrefix("/control", http.HandlerFunc(s.control)))
	s.srv = &http.Server{Handler: s.guard(mux), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return nil
}

// URL is the base URL of the listener (with the token as a query, if any).
func (s *Server) URL() string {
	u := "http://" + s.ln.Addr().String() + "/"
	if s.Token != "" {
		u += "?token=" + s.Token
	}
	return u
}

// SetState sets the one-line state the live page shows ("running 0:12").
func (s *Server) SetState(st string) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
}

// SetStop sets Stop while the server runs.
func (s *Server) SetStop(stop func()) {
	s.mu.Lock()
	s.Stop = stop
	s.mu.Unlock()
}

// SetControl sets Control while the server runs.
func (s *Server) SetControl(h http.Handler) {
	s.mu.Lock()
	s.Control = h
	s.mu.Unlock()
}

func (s *Server) getControl() http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Control
}

// control passes a request on to the control API, if the run has one.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	h := s.getControl()
	if h == nil {
		http.Error(w, "web: this run has no live control of pause and ratio", http.StatusNotFound)
		return
	}
	h.ServeHTTP(w, r)
}

func (s *Server) getStop() func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Stop
}

func (s *Server) getState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// End tells the live pages the run ended: they get the final charts and
// their event streams close. Safe to call twice.
func (s *Server) End() {
	s.once.Do(func() {
		if s.ended != nil {
			close(s.ended)
		}
	})
}

// Close stops the listener and the requests it serves (event streams
// included) within ctx.
func (s *Server) Close(ctx context.Context) error {
	s.End()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return s.srv.Close()
	}
	return err
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard checks the token and, against DNS rebinding, that the Host header
// names an IP address or localhost; control requests must also carry the
// X-Surge-Control header, which a page of another origin cannot send
// without a CORS preflight that this server never grants.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host != "localhost" && net.ParseIP(strings.Trim(host, "[]")) == nil {
			http.Error(w, "web: Host must be an IP address or localhost", http.StatusForbidden)
			return
		}
		if s.Token != "" {
			got := r.URL.Query().Get("token")
			if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
				got = strings.TrimPrefix(a, "Bearer ")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) != 1 {
				http.Error(w, "web: token required (Authorization: Bearer TOKEN or ?token=TOKEN)", http.StatusUnauthorized)
				return
			}
		}
		if strings.HasPrefix(r.URL.Path, "/control/") && r.Header.Get("X-Surge-Control") == "" {
			http.Error(w, "web: control requests need the X-Surge-Control header", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) report() *report.HTMLReport {
	if s.Page == nil {
		return nil
	}
	return s.Page()
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	rep := s.report()
	if rep == nil || rep.Summary == nil {
		http.Error(w, "web: no report yet", http.StatusServiceUnavailable)
		return
	}
	rep.Live = true
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := rep.WriteHTML(w); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// Update is one event of the live view: each chart's SVG by id, and the
// run's state.
type Update struct {
	Charts  map[string]string `json:"charts"`
	Summary string            `json:"summary,omitempty"` // the verdict, thresholds and headline figures (HTML)
	State   string            `json:"state"`
}

func (s *Server) update() ([]byte, error) {
	u := Update{State: s.getState()}
	if rep := s.report(); rep != nil && rep.Summary != nil {
		u.Charts = rep.ChartSVGs()
		u.Summary, _ = rep.SummaryHTML()
	}
	return json.Marshal(u)
}

// events streams an "update" event every s.Every and, when the run ends,
// a last update and an "end" event.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "web: streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	every := s.Every
	if every <= 0 {
		every = time.Second
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
	send := func(event string) bool {
		b, err := s.update()
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send("update") {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ended:
			send("update")
			fmt.Fprint(w, "event: end\ndata: {}\n\n")
			fl.Flush()
			return
		case <-tk.C:
			if !send("update") {
				return
			}
		}
	}
}

// Status is the JSON of GET /status.
type Status struct {
	State string `json:"state"`
	Ended bool   `json:"ended"`
	// Controls lists what POST /control/… accepts on this run.
	Controls []string `json:"controls"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st := Status{State: s.getState(), Controls: []string{}}
	select {
	case <-s.ended:
		st.Ended = true
	default:
	}
	if s.getStop() != nil {
		st.Controls = append(st.Controls, "stop")
	}
	if s.getControl() != nil {
		st.Controls = append(st.Controls, "pause", "resume", "ratio")
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	stop := s.getStop()
	if stop == nil {
		http.Error(w, "web: this run cannot be stopped from here", http.StatusNotFound)
		return
	}
	stop()
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "stopping: requests in flight may finish")
}
