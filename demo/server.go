package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// closeTimeout bounds how long Close waits for responses in progress.
const closeTimeout = 5 * time.Second

// Server is the demo streamco API. Create one with Start (listening on
// loopback) or New (a handler only, for httptest or in-memory tests).
//
//	srv, err := demo.Start(demo.Config{})
//	if err != nil { … }
//	defer srv.Close()
//	// replay against srv.URL(), then look at srv.Stats()
//
// All methods are safe for concurrent use.
type Server struct {
	seed         uint64
	timeout      time.Duration
	acceptEmpty  bool
	now          func() time.Time
	limiters     [numClasses]*limiter
	live         *live
	ws           *hub
	stop         chan struct{} // closed by Close
	notFound     atomic.Int64
	notAllowed   atomic.Int64
	unauthorized atomic.Int64
	tooLarge     atomic.Int64
	handler      http.Handler
	srv          *http.Server // nil for New
	url          string
	closeOnce    sync.Once
	closeErr     error
	serveDone    chan struct{} // closed when Serve returns; nil for New
	serveErr     error         // Serve's error other than ErrServerClosed; read after serveDone
}

// New returns a Server that does not listen: use its Handler. It checks
// cfg as Start does, Addr included.
func New(cfg Config) (*Server, error) {
	if _, err := loopbackAddr(cfg.addr()); err != nil {
		return nil, err
	}
	caps, err := cfg.capacities()
	if err != nil {
		return nil, err
	}
	if err := cfg.WebSocket.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		seed:        cfg.Seed,
		timeout:     cfg.queueTimeout(),
		acceptEmpty: cfg.AcceptEmptyLogin,
		now:         cfg.now(),
		stop:        make(chan struct{}),
	}
	for c := range numClasses {
		s.limiters[c] = newLimiter(c, caps[c], s.timeout, cfg.Seed)
	}
	s.live = newLive(s.now())
	s.ws = newHub(cfg.WebSocket, cfg.Seed, s.now, s.stop)
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s, nil
}

// Start returns a Server listening on cfg.Addr (default 127.0.0.1, a free
// port) and serving in the background until Close. It refuses an address
// that is not loopback with ErrNotLoopback, before listening.
func Start(cfg Config) (*Server, error) {
	addr, err := loopbackAddr(cfg.addr())
	if err != nil {
		return nil, err
	}
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// Defence in depth: whatever the name resolved to, serve only loopback.
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("%w: listening on %v", ErrNotLoopback, ln.Addr())
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       90 * time.Second,
		Protocols:         &protocols,
	}
	s.url = "http://" + ln.Addr().String()
	s.serveDone = make(chan struct{})
	go func() {
		defer close(s.serveDone)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = fmt.Errorf("demo: serve: %w", err)
		}
	}()
	return s, nil
}

// URL returns the base URL the server listens on, such as
// "http://127.0.0.1:41234", or "" for a Server made by New.
func (s *Server) URL() string { return s.url }

// Handler returns the server's HTTP handler; it shares the server's
// capacity and counters. Use it with httptest.NewServer or call it directly.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the server: requests waiting for capacity or in service get
// 503 at once, then the listener and connections are closed gracefully
// (at most 5 s). It returns an error if that failed or if the server had
// stopped serving on its own. Close is safe to call more than once; later
// calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		if s.srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = errors.Join(fmt.Errorf("demo: close: %w", err), s.srv.Close())
		}
		<-s.serveDone
		s.closeErr = errors.Join(s.closeErr, s.serveErr)
	})
	return s.closeErr
}

// Restart imitates a restart of the feed servers, as POST RestartPath
// does: every open WebSocket is closed with code 1012 (Service Restart) and
// upgrades get 503 for down. It returns how many sockets it closed.
func (s *Server) Restart(down time.Duration) int {
	n := s.ws.closeAll(1012, down)
	s.ws.count(func(st *WSStats) { st.Restarts++ })
	return n
}

// Stats returns the server's counters so far.
func (s *Server) Stats() Stats {
	st := Stats{
		Classes:          make([]ClassStats, numClasses),
		NotFound:         s.notFound.Load(),
		MethodNotAllowed: s.notAllowed.Load(),
		Unauthorized:     s.unauthorized.Load(),
		TooLarge:         s.tooLarge.Load(),
		WebSocket:        s.ws.stats(),
	}
	for c, l := range s.limiters {
		st.Classes[c] = l.stats()
	}
	return st
}
