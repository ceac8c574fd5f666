package shaper

import (
	"fmt"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Class is a class of sessions: those whose first request Matches, with
// their own ratio and curves.
type Class struct {
	// Name labels the class in plans, dry runs and results; empty means
	// the Match as written.
	Name  string
	Match Match
	// Ratio is the class's base ratio, in [0, MaxRatio].
	Ratio float64
	// Curves multiply the ratio over capture time (their product); none
	// means a constant ratio.
	Curves []Curve
}

// label returns Name, or the Match as written.
func (c *Class) label() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Match.String()
}

// at returns the class's ratio at capture time t: Ratio × every curve's
// factor.
func (c *Class) at(t time.Time) float64 {
	r := c.Ratio
	for _, cv := range c.Curves {
		r *= cv.Factor(t)
	}
	return r
}

// String returns "live (path=/live/**): 10x × step(20:00:00Z=10)".
func (c *Class) String() string {
	var b strings.Builder
	b.WriteString(c.label())
	if c.Name != "" && len(c.Match) > 0 && c.Name != c.Match.String() {
		b.WriteString(" (" + c.Match.String() + ")")
	}
	b.WriteString(": " + num(c.Ratio) + "x")
	for _, cv := range c.Curves {
		b.WriteString(" × " + cv.String())
	}
	return b.String()
}

// DefaultClass is the name of the class of sessions no rule matches.
const DefaultClass = "default"

// Classes is a Ratio by class: the first Rule whose Match holds for a
// session's first request gives the session's ratio (times its curves),
// else Default does (its Match is ignored). Content, when set, extracts the
// session's content id for "content" conditions.
//
// Classes is a value read by the Shaper; it must not be changed once handed
// to one. It is safe for concurrent use.
type Classes struct {
	Rules   []Class
	Default Class
	Content *ContentRule
}

// Ratio returns the ratio of the first matching class at first's capture
// time.
func (c *Classes) Ratio(first *schema.Exchange, _ time.Duration) float64 {
	return c.class(first).at(first.Time)
}

// Classify returns the index of the class of a session starting with first
// (len(Rules) for Default) and its label.
func (c *Classes) Classify(first *schema.Exchange) (int, string) {
	i := c.index(first)
	if i == len(c.Rules) {
		return i, c.defaultLabel()
	}
	return i, c.Rules[i].label()
}

// Names returns the labels of the classes, Default last.
func (c *Classes) Names() []string {
	out := make([]string, 0, len(c.Rules)+1)
	for i := range c.Rules {
		out = append(out, c.Rules[i].label())
	}
	return append(out, c.defaultLabel())
}

func (c *Classes) defaultLabel() string {
	if c.Default.Name != "" {
		return c.Default.Name
	}
	return DefaultClass
}

func (c *Classes) class(first *schema.Exchange) *Class {
	cl, _ := c.classOf(first)
	return cl
}

// classOf returns the class of a session starting with first and its label.
func (c *Classes) classOf(first *schema.Exchange) (*Class, string) {
	if i := c.index(first); i < len(c.Rules) {
		return &c.Rules[i], c.Rules[i].label()
	}
	return &c.Default, c.defaultLabel()
}

func (c *Classes) index(first *schema.Exchange) int {
	content := ""
	if c.Content != nil {
		content = c.Content.Extract(first)
	}
	for i := range c.Rules {
		if c.Rules[i].Match.Matches(first, content) {
			return i
		}
	}
	return len(c.Rules)
}

// String returns the classes in order, "; " apart, the default last.
func (c *Classes) String() string {
	var s []string
	for i := range c.Rules {
		s = append(s, c.Rules[i].String())
	}
	d := c.Default
	d.Name, d.Match = c.defaultLabel(), nil
	return strings.Join(append(s, d.String()), "; ")
}

// Validate returns every problem with the classes' ratios and curves, each
// naming its class.
func (c *Classes) Validate() error {
	var errs []string
	check := func(cl *Class) {
		if err := checkRatio(cl.Ratio); err != nil {
			errs = append(errs, fmt.Sprintf("class %s: %v", cl.label(), err))
		}
		for _, cv := range cl.Curves {
			if err := validateCurve(cv); err != nil {
				errs = append(errs, fmt.Sprintf("class %s: %v", cl.label(), err))
			}
		}
	}
	for i := range c.Rules {
		check(&c.Rules[i])
	}
	d := c.Default
	d.Name = c.defaultLabel()
	check(&d)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Classifier is a Ratio that also names the class of a session; the Shaper
// labels each Request with it (Request.Class).
type Classifier interface {
	Classify(first *schema.Exchange) (int, string)
}
