package capture

import (
	"strings"
	"testing"
)

func TestNginxFormatString(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		// A bare format is taken as it is.
		{name: "bare", in: `$remote_addr [$time_local] "$request" $status`, want: `$remote_addr [$time_local] "$request" $status`},
		// The directive on one line, single-quoted.
		{name: "one line", in: `log_format main '$remote_addr [$time_local] "$request" $status';`, want: `$remote_addr [$time_local] "$request" $status`},
		// Over several lines, as nginx.conf usually has it: the strings join.
		{name: "several strings", in: "log_format  main  '$remote_addr - $remote_user [$time_local] \"$request\" '\n                  '$status $body_bytes_sent';\n", want: `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`},
		// An escape= parameter before the strings.
		{name: "escape", in: `log_format j escape=json '{"s":"$status"}';`, want: `{"s":"$status"}`},
		// Double quotes with an escaped quote inside.
		{name: "double quoted", in: `log_format m "$remote_addr \"$request\" $status";`, want: `$remote_addr "$request" $status`},
		// The closing ';' left out of the paste.
		{name: "no semicolon", in: `log_format main '$status'`, want: `$status`},
		// A string that never closes.
		{name: "unclosed", in: `log_format main '$status;`, err: "not closed"},
		// A name but no format.
		{name: "no string", in: `log_format main;`, err: "no quoted format string"},
		// Text after the end.
		{name: "after end", in: `log_format main '$status'; access_log x main;`, err: "after the closing"},
		// Unquoted text between the strings.
		{name: "between", in: `log_format main '$status' $x '$y';`, err: "unquoted text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := nginxFormatString(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestNginxDecoderTakesDirective: a pasted directive decodes like its string.
func TestNginxDecoderTakesDirective(t *testing.T) {
	line := `203.0.113.7 [21/Nov/2026:19:55:00 +0000] "GET /live HTTP/1.1" 200` + "\n"
	dec, err := NewNginxDecoder(strings.NewReader(line), "a.log", "log_format main '$remote_addr [$time_local] '\n  '\"$request\" $status';")
	if err != nil {
		t.Fatal(err)
	}
	var h Hit
	if err := dec(&h); err != nil {
		t.Fatal(err)
	}
	if h.Exchange.Path != "/live" || h.Exchange.Status == nil || *h.Exchange.Status != 200 {
		t.Errorf("decoded %+v", h)
	}
}

func FuzzNginxFormatString(f *testing.F) {
	f.Add(`log_format main '$remote_addr' "$status";`)
	f.Add(`log_format x escape=json '{"a":"\'$b"}'`)
	f.Add(`$remote_addr`)
	f.Fuzz(func(t *testing.T, s string) {
		out, err := nginxFormatString(s)
		if err == nil && !strings.HasPrefix(strings.TrimSpace(s), "log_format") && out != s {
			t.Fatalf("a bare format changed: %q -> %q", s, out)
		}
	})
}
