package replay

// Protocol says in words how a run with c speaks to its target, decided
// before anything is sent: "HTTP/1.1 (lean driver)", "HTTP/2 without TLS
// (h2c, prior knowledge)" for --http2 with an http:// target, "HTTPS
// (HTTP/2 when the target offers it)", …. "" without a target.
func (c *Config) Protocol() string {
	switch {
	case c.Target == nil:
		return ""
	case c.usesLeanFor():
		return "HTTP/1.1 (lean driver)"
	case c.Target.Scheme == "http" && c.HTTP2:
		return "HTTP/2 without TLS (h2c, prior knowledge: the target must speak it)"
	case c.Target.Scheme == "http":
		return "HTTP/1.1 (net/http)"
	case c.HTTP2:
		return "HTTP/2 over TLS"
	}
	return "HTTPS (HTTP/2 when the target offers it)"
}
