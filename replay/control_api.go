package replay

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/surge-replay/surge/shaper"
)

// ControlHandler serves the HTTP control API of a live run:
//
//	GET   /v1/run          the run's state, shaping and control events (RunState)
//	PATCH /v1/run          change shaping keys: a JSON object with the keys of
//	                       the config's shape block (ratio, ratios, curves,
//	                       exits, content, rewrites); answers the control event
//	POST  /v1/run/pause    hold the schedule
//	POST  /v1/run/resume   go on
//	POST  /v1/run/stop     end the schedule now
//	POST  /v1/run/exit     end a fraction of the live sessions now (a JSON ExitSpec)
//
// With a Token, every request must carry "Authorization: Bearer TOKEN";
// without one, only loopback clients are served. Errors are JSON
// {"error": "..."} with 400 (bad body), 401 (token), 403 (not loopback),
// 404, 405 or 409 (a pause while paused, anything after a stop).
type ControlHandler struct {
	Live  *Live
	Token string
}

// ServeHTTP serves one request of the control API.
func (h *ControlHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.Token)) != 1 {
			fail(w, http.StatusUnauthorized, errors.New("a token is required: Authorization: Bearer TOKEN"))
			return
		}
	} else if !loopbackPeer(r.RemoteAddr) {
		fail(w, http.StatusForbidden, errors.New("the control API serves loopback clients only unless it has a token"))
		return
	}
	by := "api"
	if ua := r.Header.Get("User-Agent"); strings.HasPrefix(ua, "surge-ctl") {
		by = "ctl"
	}
	switch {
	case r.URL.Path == "/v1/run" && r.Method == http.MethodGet:
		reply(w, http.StatusOK, h.Live.State())
	case r.URL.Path == "/v1/run" && r.Method == http.MethodPatch:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		set, err := shaper.DecodeSettings(body)
		if err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		h.change(w, func() (shaper.Control, error) { return h.Live.Set(set, false, by) })
	case r.URL.Path == "/v1/run/exit" && r.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		e, err := shaper.DecodeExit(body)
		if err != nil {
			fail(w, http.StatusBadRequest, fmt.Errorf("exit: %v", err))
			return
		}
		h.change(w, func() (shaper.Control, error) { return h.Live.Exit(e, by) })
	case strings.HasPrefix(r.URL.Path, "/v1/run/") && r.Method == http.MethodPost:
		switch strings.TrimPrefix(r.URL.Path, "/v1/run/") {
		case "pause":
			h.change(w, func() (shaper.Control, error) { return h.Live.Pause(by) })
		case "resume":
			h.change(w, func() (shaper.Control, error) { return h.Live.Resume(by) })
		case "stop":
			h.change(w, func() (shaper.Control, error) { return h.Live.Stop(by) })
		default:
			fail(w, http.StatusNotFound, fmt.Errorf("no %s: want /v1/run/pause, resume, stop or exit", r.URL.Path))
		}
	case r.URL.Path == "/v1/run" || strings.HasPrefix(r.URL.Path, "/v1/run/"):
		w.Header().Set("Allow", "GET, PATCH, POST")
		fail(w, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: not allowed", r.Method, r.URL.Path))
	default:
		fail(w, http.StatusNotFound, fmt.Errorf("no %s: the control API is /v1/run", r.URL.Path))
	}
}

// change makes a change and answers its control event.
func (h *ControlHandler) change(w http.ResponseWriter, do func() (shaper.Control, error)) {
	ctl, err := do()
	switch {
	case errors.Is(err, ErrPaused), errors.Is(err, ErrNotPaused), errors.Is(err, ErrRunStopped):
		fail(w, http.StatusConflict, err)
	case err != nil:
		fail(w, http.StatusBadRequest, err)
	default:
		reply(w, http.StatusOK, ctl)
	}
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func fail(w http.ResponseWriter, code int, err error) {
	reply(w, code, map[string]string{"error": err.Error()})
}

// loopbackPeer reports whether a request's remote address is loopback.
func loopbackPeer(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr reports whether a listen address (host:port) binds
// loopback only; an empty host binds every interface and is not.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
