package capture

import (
	"reflect"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// fillAll sets every field of the struct v points to, recursively, to a
// value that is not its zero value, so that a field an encoding forgets
// shows up as a difference.
func fillAll(t *testing.T, v reflect.Value, seed *int) {
	t.Helper()
	*seed++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+*seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*seed))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*seed))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*seed) + 0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(t, v.Elem(), seed)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillAll(t, s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1_700_000_000, int64(*seed)).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(t, v.Field(i), seed)
			}
		}
	default:
		t.Fatalf("fillAll: a field of kind %s: teach the test (and check the held encoding carries it)", v.Kind())
	}
}

// Every field of an exchange, and the client address, come back from the
// re-order window's encoding as they went in: a field added to
// schema.Exchange that the encoding forgets fails here.
func TestHeldRoundTrip(t *testing.T) {
	var full Hit
	seed := 0
	fillAll(t, reflect.ValueOf(&full.Exchange).Elem(), &seed)
	full.Client = "192.0.2.7"
	tests := []struct {
		name string
		h    Hit
	}{
		{"every exchange field set", full}, // all optional facts present
		{"as the tap makes one", Hit{Exchange: schema.Exchange{Time: full.Exchange.Time, Method: "GET", Path: "/a b", Source: TapSource}}}, // no client, no response facts
		{"empty", Hit{Exchange: schema.Exchange{Time: time.Unix(0, 0).UTC()}}},                                                             // zero values throughout
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendHeld(nil, &tt.h)
			var got Hit
			if err := decodeHeld(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.h) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.h)
			}
		})
	}
}

// A damaged encoding is an error, never a panic or a wrong exchange.
func TestHeldDecodeDamaged(t *testing.T) {
	h := Hit{Client: "192.0.2.7", Exchange: schema.Exchange{Time: time.Unix(1, 0).UTC(), Path: "/x", Headers: []schema.Header{{Name: "A", Value: "b"}}}}
	b := appendHeld(nil, &h)
	for _, cut := range []int{0, 1, 5, len(b) - 1} {
		var got Hit
		if err := decodeHeld(b[:cut], &got); err == nil {
			t.Errorf("decodeHeld of the first %d of %d bytes: no error", cut, len(b))
		}
	}
	bad := append([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, b...) // a client length past the end
	if err := decodeHeld(bad, &Hit{}); err == nil {
		t.Error("decodeHeld with a client length past the end: no error")
	}
}
