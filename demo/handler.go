package demo

import (
	"errors"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// maxRequestBody is the most of a request body the server reads; a longer
// body gets 413.
const maxRequestBody = 64 << 10

// bufPool holds response and request-body buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// serveHTTP answers one request: route, method, credentials, body, then
// capacity and service time, then the response.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if f, event, ok := wsRoute(r.URL.Path); ok {
		s.ws.serve(w, r, f, event)
		return
	}
	if r.URL.Path == RestartPath {
		s.ws.restart(w, r)
		return
	}
	m, ok := route(r.URL.Path)
	if !ok {
		s.notFound.Add(1)
		writeBytes(w, http.StatusNotFound, contentJSON, bodyNotFound)
		return
	}
	if ok, allow := m.class.allows(r.Method); !ok {
		s.notAllowed.Add(1)
		w.Header().Set("Allow", allow)
		writeBytes(w, http.StatusMethodNotAllowed, contentJSON, bodyNotAllowed)
		return
	}
	if profiles[m.class].auth && r.Header.Get("Authorization") == "" {
		s.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="streamco"`)
		writeBytes(w, http.StatusUnauthorized, contentJSON, bodyUnauthorized)
		return
	}
	q := &request{m: m, r: r}
	if r.Method == http.MethodPost {
		var err error
		if q.body, q.bodyID, err = readBody(w, r); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				s.tooLarge.Add(1)
				writeBytes(w, http.StatusRequestEntityTooLarge, contentJSON, bodyTooLarge)
			}
			return // otherwise the client is gone
		}
	}
	lim := s.limiters[m.class]
	seq, err := lim.do(r.Context(), s.stop)
	if err != nil {
		if errors.Is(err, errBusy) || errors.Is(err, errClosed) {
			w.Header().Set("Retry-After", "1")
			writeBytes(w, http.StatusServiceUnavailable, contentJSON, bodyOverloaded)
		}
		return // otherwise the client is gone
	}
	q.now = s.now()
	q.seq = seq
	s.respond(w, q)
}

// respond writes the successful (or 401, for a login without a body)
// response to q.
func (s *Server) respond(w http.ResponseWriter, q *request) {
	switch q.m.class {
	case classHeartbeat:
		w.WriteHeader(http.StatusNoContent)
		return
	case classSegment:
		w.Header().Set("Cache-Control", "max-age=3600")
		writeBytes(w, http.StatusOK, contentTS, segmentBody)
		return
	case classManifest:
		p := s.live.playlist(q.now)
		h := w.Header()
		h.Set("Cache-Control", "max-age=2")
		h.Set("ETag", p.etag)
		if q.r.Header.Get("If-None-Match") == p.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeBytes(w, http.StatusOK, contentPlaylist, p.body)
		return
	case classSession:
		if q.body == 0 && !s.acceptEmpty {
			s.unauthorized.Add(1)
			writeBytes(w, http.StatusUnauthorized, contentJSON, bodyUnauthorized)
			return
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	*bp = s.appendBody((*bp)[:0], q)
	w.Header().Set("Cache-Control", "no-store")
	writeBytes(w, http.StatusOK, contentJSON, *bp)
}

// readBody reads at most maxRequestBody bytes of r's body and returns its
// length and a hash of it. A longer body is an error (and, through
// http.MaxBytesReader, closes the connection after the response).
func readBody(w http.ResponseWriter, r *http.Request) (n int, id uint64, err error) {
	body := http.MaxBytesReader(w, r.Body, maxRequestBody)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	h := fnv.New64a()
	buf := (*bp)[:cap(*bp)]
	for {
		k, err := body.Read(buf)
		n += k
		h.Write(buf[:k])
		if err == io.EOF {
			return n, h.Sum64(), nil
		}
		if err != nil {
			return n, 0, err
		}
	}
}

// writeBytes writes a complete response with its Content-Type and
// Content-Length.
func writeBytes(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
