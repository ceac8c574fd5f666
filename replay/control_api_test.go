package replay_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/shaper"
)

func TestControlHandler(t *testing.T) {
	controls, _ := shaper.NewControls()
	live := replay.NewLive(context.Background(), controls, shaper.Settings{}, 0)
	tests := []struct {
		name, method, path, body, token, remote string
		want                                    int
		in                                      string // in the body
	}{
		{"get", "GET", "/v1/run", "", "", "127.0.0.1:5000", 200, `"state": "starting"`},                                            // loopback, no token
		{"not loopback", "GET", "/v1/run", "", "", "192.0.2.7:5000", 403, "loopback clients only"},                                 // refused without a token
		{"bad patch", "PATCH", "/v1/run", `{"ratios": [{"match": "colour=red", "ratio": 2}]}`, "", "127.0.0.1:1", 400, "colour"},   // every error named
		{"no ratio", "PATCH", "/v1/run", `{"ratios": [{"match": "path=/x"}]}`, "", "127.0.0.1:1", 400, "ratios[0].ratio: missing"}, // never a silent 0
		{"wrong type", "PATCH", "/v1/run", `{"ratio": "2"}`, "", "127.0.0.1:1", 400, `ratio: \"2\" is a string; want a number`},    // said as written
		{"exit typo", "POST", "/v1/run/exit", `{"fraction": 0.2, "clas": "x"}`, "", "127.0.0.1:1", 400, `exit: clas: unknown key (did you mean \"class\"?)`},
		{"exit to no set", "POST", "/v1/run/exit", `{"fraction": 0.2, "to": "home"}`, "", "127.0.0.1:1", 400, `exit.to: no session set \"home\"`}, // refused
		{"unknown key", "PATCH", "/v1/run", `{"ratioz": 2}`, "", "127.0.0.1:1", 400, "ratioz"},                                                    // refused
		{"patch", "PATCH", "/v1/run", `{"ratio": 2}`, "", "127.0.0.1:1", 200, `"op": "set"`},                                                      // a control event
		{"resume unpaused", "POST", "/v1/run/resume", "", "", "127.0.0.1:1", 409, "not paused"},                                                   // conflict
		{"bad exit", "POST", "/v1/run/exit", `{"fraction": 3}`, "", "127.0.0.1:1", 400, "not between 0 and 1"},                                    // checked
		{"unknown action", "POST", "/v1/run/explode", "", "", "127.0.0.1:1", 404, "want /v1/run/pause"},                                           // not found
		{"method", "DELETE", "/v1/run", "", "", "127.0.0.1:1", 405, "not allowed"},                                                                // method
		{"elsewhere", "GET", "/", "", "", "127.0.0.1:1", 404, "/v1/run"},                                                                          // not the API
	}
	for _, tt := range tests {
		h := &replay.ControlHandler{Live: live}
		req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		req.RemoteAddr = tt.remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.in) {
			t.Errorf("%s: %s %s = %d %s; want %d with %q", tt.name, tt.method, tt.path, rec.Code, rec.Body, tt.want, tt.in)
		}
	}
	// With a token, any address is served, with the token only.
	h := &replay.ControlHandler{Live: live, Token: "s3cret"}
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer s3cret", 200}} {
		req := httptest.NewRequest("GET", "/v1/run", nil)
		req.RemoteAddr = "192.0.2.7:5000"
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("token, Authorization %q: %d; want %d", tc.auth, rec.Code, tc.want)
		}
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:7357": true, "[::1]:1": true, "localhost:1": true, ":7357": false, "0.0.0.0:1": false, "192.0.2.1:1": false, "x": false} {
		if got := replay.IsLoopbackAddr(addr); got != want {
			t.Errorf("IsLoopbackAddr(%q) = %v; want %v", addr, got, want)
		}
	}
}
