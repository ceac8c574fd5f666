package capture

import (
	"io"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// The fields of an Application Load Balancer access log entry, in order
// (AWS, "Access logs for your Application Load Balancer", section "Access
// log entries": docs.aws.amazon.com/elasticloadbalancing/latest/application/
// load-balancer-access-logs.html). Fields are separated by spaces; the
// quoted ones are in double quotes. New fields are added at the end, so the
// decoder ignores any after the last it knows.
const (
	albType = iota
	albTime
	albELB
	albClient
	albTarget
	albRequestProcessing
	albTargetProcessing
	albResponseProcessing
	albELBStatus
	albTargetStatus
	albReceivedBytes
	albSentBytes
	albRequest
	albUserAgent
	albSSLCipher
	albSSLProtocol
	albTargetGroup
	albTraceID
	albDomainName
	albChosenCert
	albMatchedRule
	albRequestCreation
	albNumFields // fields the decoder reads
)

// albFieldNames names the fields in errors, as the AWS documentation does.
var albFieldNames = [albNumFields]string{
	"type", "time", "elb", "client:port", "target:port", "request_processing_time",
	"target_processing_time", "response_processing_time", "elb_status_code",
	"target_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
	"ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
	"chosen_cert_arn", "matched_rule_priority", "request_creation_time",
}

// NewALBDecoder returns a Decoder of AWS Application Load Balancer access
// logs (one entry per line, as the load balancer writes them to S3; gzip is
// undone by OpenFile); name names the input in positions and errors.
//
// Exchange.Time is request_creation_time, when the load balancer received
// the request; the entry's own time (when it sent the response, or closed
// a WebSocket) is Hit.LogTime. An entry from before request_creation_time
// was logged (22 fields and fewer) starts at its time minus the latency.
// LatencyNS is request_processing_time + target_processing_time +
// response_processing_time (seconds, millisecond precision), unknown when any
// of them is -1 (the load balancer could not dispatch the request or the
// target did not answer). Status is elb_status_code, what the client got
// ("-" is unknown); ResponseBytes is sent_bytes, which counts the response
// headers. The request line ("GET https://www.example.com:443/p?q HTTP/1.1")
// gives Method, Scheme, Host (without the scheme's default port), Path,
// Query and Protocol; type ws or wss, or status 101, makes it WebSocket,
// whose ConnectionNS is the connection's lifetime (time, when it closed,
// minus request_creation_time).
// user_agent is the User-Agent header and Device; client:port gives Client.
// Region is left empty: the log says where the load balancer is, not the
// client.
//
// An entry that cannot be used is a *RecordError naming the line and the
// field: a request logged as "- - -" (a malformed request, or a connection
// that sent none), fewer than 13 fields, a time or number that does not
// parse. The Decoder is not safe for concurrent use.
func NewALBDecoder(r io.Reader, name string) Decoder {
	d := &albDecoder{src: newLogSource(r, name)}
	return d.decode
}

type albDecoder struct {
	src    *logSource
	fields []string
}

func (d *albDecoder) decode(h *Hit) error {
	line, err := d.src.next(h)
	if err != nil {
		return err
	}
	if rerr := d.parse(line, h); rerr != nil {
		return d.src.fail(h, rerr)
	}
	return nil
}

func (d *albDecoder) parse(line string, h *Hit) *RecordError {
	fs, ok := splitFields(line, d.fields)
	d.fields = fs
	if !ok {
		return badRecord("", "a quoted field is not closed")
	}
	if len(fs) <= albUserAgent {
		return badRecord("", "%d fields; an ALB entry has at least %d", len(fs), albUserAgent+1)
	}
	e := &h.Exchange
	e.Source = SourceALB
	if rerr := d.request(fs[albRequest], e); rerr != nil {
		return rerr
	}
	f := d.src.responseFacts()
	if rerr := setStatus(e, f, albFieldNames[albELBStatus], fs[albELBStatus]); rerr != nil {
		return rerr
	}
	if rerr := setBytes(e, f, albFieldNames[albSentBytes], fs[albSentBytes]); rerr != nil {
		return rerr
	}
	if rerr := d.latency(fs, e, f); rerr != nil {
		return rerr
	}
	if rerr := d.times(fs, h); rerr != nil {
		return rerr
	}
	h.Client = hostOnly(fs[albClient])
	if ua := fs[albUserAgent]; !absent(ua) {
		ua = unescapeLogged(ua)
		addHeader(e, "User-Agent", ua)
		e.Device = d.src.device(ua)
	}
	if t := fs[albType]; t == "ws" || t == "wss" || e.StatusCode() == 101 {
		e.Protocol = schema.ProtoWebSocket
	}
	if e.Protocol == schema.ProtoWebSocket && h.LogTime.After(e.Time) {
		// A WebSocket's entry is written when the connection closes
		// (its time); the processing times are the upgrade's, a latency.
		// The connection's lifetime is kept apart.
		f.conn = int64(h.LogTime.Sub(e.Time))
		e.ConnectionNS = &f.conn
	}
	return nil
}

// request sets the request line fields from "GET https://host:443/p?q HTTP/1.1".
func (d *albDecoder) request(r string, e *schema.Exchange) *RecordError {
	field := albFieldNames[albRequest]
	if strings.TrimSpace(r) == "- - -" {
		return badRecord(field, `logged as "- - -": a malformed request, or a connection that sent none`)
	}
	method, target, proto, reason := splitLoggedRequest(r)
	if reason != "" {
		return badRecord(field, "not METHOD URL HTTP-VERSION") // reason quotes the URL
	}
	e.Method, e.Protocol = method, proto
	scheme, host, ok := splitLoggedTarget(target, e)
	if !ok || host == "" {
		return badRecord(field, "the target is not an absolute http or https URL")
	}
	e.Scheme, e.Host = scheme, withoutDefaultPort(host, scheme)
	return nil
}

// latency sets LatencyNS from the three processing times.
func (d *albDecoder) latency(fs []string, e *schema.Exchange, f *responseFacts) *RecordError {
	var sum int64
	for k := albRequestProcessing; k <= albResponseProcessing; k++ {
		s := fs[k]
		if s == "-1" {
			return nil // unknown: not dispatched, or no answer in time
		}
		ns, ok := secondsValue(s)
		if !ok {
			return badRecord(albFieldNames[k], "not a duration in seconds: %s", quoteValue(s))
		}
		sum += ns
	}
	setLatency(e, f, sum)
	return nil
}

// times sets Exchange.Time (request_creation_time) and LogTime.
func (d *albDecoder) times(fs []string, h *Hit) *RecordError {
	end, ok := iso8601Time(fs[albTime])
	if !ok {
		return badRecord(albFieldNames[albTime], "not an ISO 8601 time: %s", quoteValue(fs[albTime]))
	}
	h.LogTime, h.Exchange.Time = end, end
	if len(fs) > albRequestCreation {
		s := fs[albRequestCreation]
		start, ok := iso8601Time(s)
		if !ok {
			return badRecord(albFieldNames[albRequestCreation], "not an ISO 8601 time: %s", quoteValue(s))
		}
		h.Exchange.Time = start
		return nil
	}
	if l, ok := h.Exchange.Latency(); ok {
		h.Exchange.Time = end.Add(-l)
	}
	return nil
}

// withoutDefaultPort drops ":80" from an http host and ":443" from an https
// one: load balancers log the port, clients mostly leave it out of Host.
func withoutDefaultPort(host, scheme string) string {
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return host[:len(host)-3]
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return host[:len(host)-4]
	}
	return host
}
