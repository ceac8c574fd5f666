package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
)

// TestFieldCasesEveryImporter runs each access-log field case through every
// importer its format fits: a file in the combined format through combined,
// nginx (with the combined log_format) and apache (its combined nickname),
// which must agree event for event; a custom log_format through nginx. The
// main format (combined plus a trailing field) fits only combined, which
// ignores trailing fields; the strict formats skip its lines, saying why.
func TestFieldCasesEveryImporter(t *testing.T) {
	files, err := filepath.Glob("testdata/field-cases/nginx-*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no field cases (%v)", err)
	}
	for _, file := range files {
		format := CombinedFormat
		if b, err := os.ReadFile(strings.TrimSuffix(file, ".log") + ".format"); err == nil {
			format = strings.TrimSpace(string(b))
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			results := map[string][]schema.Exchange{}
			reports := map[string]*Report{}
			for _, imp := range []string{"combined", "nginx", "apache"} {
				if imp != "nginx" && format != CombinedFormat {
					continue
				}
				r, err := OpenFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var dec Decoder
				switch imp {
				case "combined":
					dec = NewCombinedDecoder(r, file)
				case "nginx":
					dec, err = NewNginxDecoder(r, file, format)
				case "apache":
					dec, err = NewApacheDecoder(r, file, "combined")
				}
				if err != nil {
					t.Fatal(err)
				}
				results[imp], reports[imp] = importUnseen(t, dec)
				r.Close()
			}
			if format != CombinedFormat {
				if len(results["nginx"]) == 0 {
					t.Errorf("nginx: no events, problems %v", reports["nginx"].Problems)
				}
				return
			}
			if strings.Contains(file, "main-format-as-combined") {
				for _, imp := range []string{"nginx", "apache"} {
					rep := reports[imp]
					if len(results[imp]) != 0 || rep.Skipped != 3 || !strings.Contains(rep.Problems[0].Reason, "unexpected text after the last field") {
						t.Errorf("%s: %d events, problems %v; want every line skipped for its trailing field", imp, len(results[imp]), rep.Problems)
					}
				}
				return
			}
			want, wrep := results["combined"], reports["combined"]
			for _, imp := range []string{"nginx", "apache"} {
				got, rep := results[imp], reports[imp]
				if len(got) != len(want) || rep.Skipped != wrep.Skipped {
					t.Errorf("%s: %d events, %d skipped; combined has %d, %d", imp, len(got), rep.Skipped, len(want), wrep.Skipped)
					continue
				}
				for i := range got {
					g, w := &got[i], &want[i]
					if !g.Time.Equal(w.Time) || g.Method != w.Method || g.Path != w.Path || g.Query != w.Query || g.Protocol != w.Protocol || g.StatusCode() != w.StatusCode() {
						t.Errorf("%s event %d: %v %s %s?%s %s %d; combined has %v %s %s?%s %s %d", imp, i,
							g.Time, g.Method, g.Path, g.Query, g.Protocol, g.StatusCode(), w.Time, w.Method, w.Path, w.Query, w.Protocol, w.StatusCode())
					}
				}
			}
		})
	}
}
