package capture

import (
	"errors"
	"fmt"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Hit is one parsed request before sessionization and scrubbing.
//
// Exchange.Time is the request start. Headers and Query still hold raw values
// (secrets included): the pipeline scrubs them before anything is written.
// Exchange.Session and Exchange.User are left empty by decoders; the pipeline
// fills them from SessionID, UserID, the configured session key or Client.
type Hit struct {
	Exchange schema.Exchange

	// LogTime is when the source wrote the record (an access log writes a line
	// when the response ends). Zero means the same as Exchange.Time.
	LogTime time.Time
	// Client is the client address (no port), used for sessionization when
	// no session key is configured or found.
	Client string
	// ClientOnly says Client alone identifies the client: the user agent
	// does not split it into several (a HAR file is one browser's
	// recording, whatever its entries' User-Agent headers say).
	ClientOnly bool
	// UserID is the raw user id when the source has one (e.g. $remote_user).
	UserID string
	// SessionID is the raw session id when the source has one.
	SessionID string
	// Pos is where the record starts in its file.
	Pos Position
	// Frames are the WebSocket messages of an upgrade, when the source
	// records them (HAR _webSocketMessages, JSON lines "frames"): times,
	// directions, opcodes and raw payloads; the pipeline sets their
	// session, connection and sequence and scrubs them.
	Frames []schema.Frame

	// key is the raw session key, found before the record is scrubbed
	// (see pipeline.prepare).
	key hitKey
}

// Reset clears h for reuse, keeping its slices' capacity.
func (h *Hit) Reset() {
	headers, body := h.Exchange.Headers[:0], h.Exchange.Body[:0]
	*h = Hit{}
	h.Exchange.Headers, h.Exchange.Body = headers, body
}

// Position names a place in an input file.
type Position struct {
	File   string // path as given by the user
	Line   int64  // 1-based line number; 0 when the format has no lines
	Offset int64  // byte offset of the start of the record
}

func (p Position) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d (offset %d)", p.File, p.Line, p.Offset)
	}
	return fmt.Sprintf("%s (offset %d)", p.File, p.Offset)
}

// Decoder reads the next record of one input into h. It returns io.EOF at
// the end of the input, a *RecordError for a record that cannot be parsed
// (the decoder has skipped it and may be called again), and any other error
// when the input cannot be read further.
type Decoder func(h *Hit) error

// ViewDecoder reads the next viewing event of one input into v, with the same
// error contract as Decoder. Raw user ids are in v.User; the pipeline hashes
// them. pos receives the record's position.
type ViewDecoder func(v *schema.ViewingEvent, pos *Position) error

// RecordError is a record that could not be parsed. Importers skip and count
// them unless strict.
type RecordError struct {
	Pos    Position
	Field  string // which field, when known
	Reason string
}

func (e *RecordError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Pos, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Pos, e.Reason)
}

// ErrLineTooLong is the reason of a RecordError for a line longer than
// MaxLine.
var ErrLineTooLong = errors.New("line too long")

// MaxLine is the longest line a line-based decoder accepts; longer lines are
// skipped as a RecordError (a 1 MB header line is a bad record, not a crash).
const MaxLine = 256 << 10
