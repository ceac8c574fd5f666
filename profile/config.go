package profile

import (
	"fmt"
	"strings"
	"time"

	"github.com/surge-replay/surge/shaper"
)

// Config configures Build. The zero value works.
type Config struct {
	// SessionIdle ends a session after this much capture time without a
	// request: a later request of the same session id starts a new one.
	// Zero means 30 minutes; negative is an error.
	SessionIdle time.Duration
	// MaxRoutes bounds the route groups (and the values of each mix
	// dimension) a profile tells apart; later ones count as OtherRoute.
	// Zero means 200.
	MaxRoutes int
	// Classes are the session class rules, first match on a session's
	// first request wins, and sessions no rule matches are
	// shaper.DefaultClass. None means one class per device of the first
	// request ("tv", "mobile", …; "unknown" when not recorded).
	Classes []ClassRule
	// MomentChange is the least relative change of a notable moment. Zero
	// means 0.3 (30%).
	MomentChange float64
	// MomentWindow is the longest rise or drop looked for, in minutes.
	// Zero means 3.
	MomentWindow int
	// MomentZ is the noise bound of a moment: its change must exceed
	// MomentZ·√(before+after). Zero means 4.
	MomentZ float64
	// BatchSize is the rows per Arrow record batch. Zero means 65536.
	BatchSize int
	// Now stamps Meta.Built. Nil means time.Now.
	Now func() time.Time
}

func (c *Config) sessionIdle() time.Duration {
	if c.SessionIdle == 0 {
		return 30 * time.Minute
	}
	return c.SessionIdle
}

func (c *Config) maxRoutes() int {
	if c.MaxRoutes <= 0 {
		return 200
	}
	return c.MaxRoutes
}

func (c *Config) momentChange() float64 {
	if c.MomentChange <= 0 {
		return 0.3
	}
	return c.MomentChange
}

func (c *Config) momentWindow() int {
	if c.MomentWindow <= 0 {
		return 3
	}
	return c.MomentWindow
}

func (c *Config) momentZ() float64 {
	if c.MomentZ <= 0 {
		return 4
	}
	return c.MomentZ
}

func (c *Config) batchSize() int {
	if c.BatchSize <= 0 {
		return 64 << 10
	}
	return c.BatchSize
}

func (c *Config) now() time.Time {
	if c.Now == nil {
		return time.Now().UTC()
	}
	return c.Now().UTC()
}

// Validate returns every problem of c, or nil.
func (c *Config) Validate() error {
	var errs []string
	if c.SessionIdle < 0 {
		errs = append(errs, fmt.Sprintf("session idle %v is negative", c.SessionIdle))
	}
	if c.MomentChange < 0 {
		errs = append(errs, fmt.Sprintf("moment change %v is negative", c.MomentChange))
	}
	if c.MomentWindow < 0 {
		errs = append(errs, fmt.Sprintf("moment window %d is negative", c.MomentWindow))
	}
	if len(errs) > 0 {
		return fmt.Errorf("profile: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ClassRule is a session class: sessions whose first request Matches.
type ClassRule struct {
	Name  string
	Match shaper.Match
	// Text is the rule as written ("path=/live/**:live").
	Text string
}

// ParseClass parses a class rule written CONDITION[,CONDITION]:NAME, as
// --ratio-for writes a class with a ratio: "path=/live/**:live",
// "device=tv,region=eu-*:tv-eu". Conditions are shaper's (docs/SHAPING.md)
// on the columns a profile reads: path, host, method, region, device and
// protocol.
func ParseClass(s string) (ClassRule, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return ClassRule{}, fmt.Errorf("class %q: want CONDITION[,CONDITION]:NAME (path=/live/**:live)", s)
	}
	conds, name := s[:i], strings.TrimSpace(s[i+1:])
	if name == "" {
		return ClassRule{}, fmt.Errorf("class %q: empty name after the colon", s)
	}
	var parts []string
	for _, c := range strings.Split(conds, ",") {
		c = strings.TrimSpace(c)
		key := strings.ToLower(c[:max(0, strings.IndexAny(c, "=~"))])
		switch key {
		case "path", "host", "method", "region", "device", "protocol":
		default:
			return ClassRule{}, fmt.Errorf("class %q: condition %q: a profile class can test path, host, method, region, device or protocol", s, c)
		}
		parts = append(parts, c)
	}
	m, err := shaper.ParseMatch(parts)
	if err != nil {
		return ClassRule{}, fmt.Errorf("class %q: %w", s, err)
	}
	return ClassRule{Name: name, Match: m, Text: s}, nil
}
