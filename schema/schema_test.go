package schema

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)

func good() Exchange {
	return Exchange{Time: t0, Session: "s_1", Method: "GET", Scheme: "https", Host: "api.example", Path: "/x",
		Headers: []Header{{Name: "Accept", Value: "*/*"}}, Protocol: ProtoHTTP11, Source: "test"}
}

func TestExchangeValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Exchange)
		fields []string // fields named by the problems, in order
	}{
		// A well-formed exchange.
		{"good", func(*Exchange) {}, nil},
		// Every problem is reported, not just the first.
		{"many", func(e *Exchange) { e.Time = time.Time{}; e.Method = "GE T"; e.Path = "x"; e.Status = Int32(42) },
			[]string{"time", "method", "path", "status"}},
		// A header name with a space and a value with a line break.
		{"headers", func(e *Exchange) { e.Headers = []Header{{Name: "X Bad", Value: "a"}, {Name: "X-Ok", Value: "a\r\nb"}} },
			[]string{"headers[0].name", "headers[1].value"}},
		// A truncated body must say so.
		{"body", func(e *Exchange) { e.Body, e.BodySize = []byte("abc"), 10 }, []string{"body_truncated"}},
		// SetBody keeps the flags consistent.
		{"set body", func(e *Exchange) { e.SetBody(make([]byte, 100), 10) }, nil},
		// Unknown protocol and missing source.
		{"protocol", func(e *Exchange) { e.Protocol, e.Source = "SPDY", "" }, []string{"protocol", "source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good()
			tt.modify(&e)
			errs := e.Validate()
			var got []string
			for _, err := range errs {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("problem %v is not a *FieldError", err)
				}
				got = append(got, fe.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("Validate() fields = %v; want %v (%v)", got, tt.fields, errs)
			}
		})
	}
}

func TestFrameAndViewValidate(t *testing.T) {
	f := Frame{Time: t0, Session: "s", Conn: "c", Direction: "up", Opcode: 3, Source: "t"}
	if got := len(f.Validate()); got != 2 {
		t.Errorf("Frame.Validate() found %d problems; want direction and opcode: %v", got, f.Validate())
	}
	v := ViewingEvent{Time: t0, User: "u", Content: "c", Type: "pause", PositionMS: -1, Source: "t"}
	if got := len(v.Validate()); got != 2 {
		t.Errorf("ViewingEvent.Validate() found %d problems; want type and position_ms: %v", got, v.Validate())
	}
}

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{Version, true}, // this build's
		{"1.7", true},   // a later minor version
		{"2.0", false},  // another major version
		{"", false},     // not a surge file
		{"x.1", false},  // garbage
	}
	for _, tt := range tests {
		err := CheckVersion(tt.v)
		if (err == nil) != tt.ok {
			t.Errorf("CheckVersion(%q) = %v; want ok=%v", tt.v, err, tt.ok)
		}
		var ve *VersionError
		if err != nil && !errors.As(err, &ve) {
			t.Errorf("CheckVersion(%q) = %T; want *VersionError", tt.v, err)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		v    any
		want Kind
	}{
		{Exchange{}, KindExchange}, {&RequestLine{}, KindExchange}, {Frame{}, KindFrame},
		{ViewingEvent{}, KindView}, {Result{}, KindResult}, {42, ""},
	}
	for _, tt := range tests {
		if got := KindOf(tt.v); got != tt.want {
			t.Errorf("KindOf(%T) = %q; want %q", tt.v, got, tt.want)
		}
		if tt.want != "" && ArrowOf(tt.want) == nil {
			t.Errorf("ArrowOf(%q) = nil", tt.want)
		}
	}
}

func ExampleExchange_Validate() {
	e := Exchange{Method: "GET", Path: "/live", Scheme: "http", Host: "h", Protocol: ProtoHTTP11, Source: "doc"}
	for _, err := range e.Validate() {
		fmt.Println(err)
	}
	// Output:
	// time: missing
	// session: missing
}
