package kafkalog

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Scheme is the URL scheme of a Kafka address.
const Scheme = "kafka"

// DefaultPartitions is how many partitions a topic surge creates gets when
// the address does not say.
const DefaultPartitions = 12

// Addr is a topic on a Kafka cluster, parsed from
//
//	kafka://HOST:PORT[,HOST:PORT...]/TOPIC[?partitions=N][&replicas=R][&format=json|binary]
//
// partitions and replicas apply only when the topic is created (default
// DefaultPartitions and 1); format chooses the encoding a producer writes
// (default binary; readers decode either by the record headers).
type Addr struct {
	Brokers    []string // bootstrap HOST:PORT list
	Topic      string
	Partitions int    // partitions of a created topic; 0 means DefaultPartitions
	Replicas   int    // replication factor of a created topic; 0 means 1
	Format     Format // encoding of produced records
}

// IsAddr reports whether s is a kafka:// address rather than a path.
func IsAddr(s string) bool { return strings.HasPrefix(s, Scheme+"://") }

// ParseAddr parses a kafka:// address. The error names the address and what
// is wrong with it.
func ParseAddr(s string) (Addr, error) {
	bad := func(format string, args ...any) (Addr, error) {
		return Addr{}, fmt.Errorf("kafka address %q: %s", s, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("%v", err)
	}
	if u.Scheme != Scheme {
		return bad("scheme %q, want %s://", u.Scheme, Scheme)
	}
	if u.User != nil || u.Fragment != "" {
		return bad("user info and fragments are not part of a kafka address")
	}
	a := Addr{Topic: strings.TrimPrefix(u.Path, "/")}
	for _, b := range strings.Split(u.Host, ",") {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return bad("broker %q is not HOST:PORT", b)
		}
		a.Brokers = append(a.Brokers, b)
	}
	if err := checkTopic(a.Topic); err != nil {
		return bad("%v", err)
	}
	q := u.Query()
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch k {
		case "partitions", "replicas":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10000 {
				return bad("%s=%q: want a count from 1 to 10000", k, v)
			}
			if k == "partitions" {
				a.Partitions = n
			} else {
				a.Replicas = n
			}
		case "format":
			switch v {
			case "binary":
				a.Format = Binary
			case "json":
				a.Format = JSON
			default:
				return bad("format=%q: want binary or json", v)
			}
		default:
			return bad("unknown parameter %q (partitions, replicas, format)", k)
		}
	}
	return a, nil
}

// String returns the address in its kafka:// form.
func (a Addr) String() string {
	s := Scheme + "://" + strings.Join(a.Brokers, ",") + "/" + a.Topic
	var q []string
	if a.Partitions != 0 {
		q = append(q, "partitions="+strconv.Itoa(a.Partitions))
	}
	if a.Replicas != 0 {
		q = append(q, "replicas="+strconv.Itoa(a.Replicas))
	}
	if a.Format != Binary {
		q = append(q, "format="+a.Format.String())
	}
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

func (a Addr) partitions() int {
	if a.Partitions <= 0 {
		return DefaultPartitions
	}
	return a.Partitions
}

func (a Addr) replicas() int {
	if a.Replicas <= 0 {
		return 1
	}
	return a.Replicas
}

// checkTopic applies Kafka's rule for topic names: 1 to 249 characters of
// [a-zA-Z0-9._-], not "." or "..".
func checkTopic(t string) error {
	if t == "" {
		return fmt.Errorf("no topic: want kafka://HOST:PORT/TOPIC")
	}
	if len(t) > 249 || t == "." || t == ".." {
		return fmt.Errorf("topic %q: not a legal Kafka topic name", t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic %q: character %q at %d is not one of [a-zA-Z0-9._-]", t, c, i)
		}
	}
	return nil
}
