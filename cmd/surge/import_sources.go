package main

import (
	"cmp"
	"fmt"
	"io"

	"github.com/surge-replay/surge/capture"
)

// sourceFormats are the import formats of web server, load balancer, CDN
// and proxy logs (docs/FORMATS.md has a section for each).
var sourceFormats = []string{"apache", "alb", "cloudfront", "envoy", "caddy"}

// sourceFormatHelp is their part of surge import --help.
const sourceFormatHelp = `  apache    Apache httpd access log; --log-format is its LogFormat
            string or nickname (default combined)
  alb       AWS Application Load Balancer access log
  cloudfront Amazon CloudFront standard log (W3C, #Fields header)
  envoy     Envoy or Istio access log, default text format or JSON
  caddy     Caddy JSON access log`

// sourceDecoder returns the decoder of one input for a format of
// sourceFormats; ok is false for any other format.
func sourceDecoder(o *importOptions, r io.Reader, path string) (dec capture.Decoder, ok bool, err error) {
	switch o.format {
	case "apache":
		dec, err := capture.NewApacheDecoder(r, path, cmp.Or(o.logFormat, "combined"))
		if err != nil {
			return nil, true, fmt.Errorf("import: --log-format: %w", err)
		}
		return dec, true, nil
	case "alb":
		return capture.NewALBDecoder(r, path), true, nil
	case "cloudfront":
		return capture.NewCloudFrontDecoder(r, path), true, nil
	case "envoy":
		return capture.NewEnvoyDecoder(r, path), true, nil
	case "caddy":
		return capture.NewCaddyDecoder(r, path), true, nil
	}
	return nil, false, nil
}
