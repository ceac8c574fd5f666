package capture

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Columns of a views CSV file: the json names of schema.ViewingEvent.
const (
	viewTime = iota
	viewUser
	viewSession
	viewContent
	viewType
	viewPosition
	viewWatched
	viewDevice
	viewRegion
	viewNumColumns
)

// viewColumnNames are the column names, indexed by the constants above.
var viewColumnNames = [viewNumColumns]string{
	"time", "user", "session", "content", "type", "position_ms", "watched_ms", "device", "region",
}

// viewRequired says which columns a header must have.
var viewRequired = [viewNumColumns]bool{viewTime: true, viewUser: true, viewContent: true, viewType: true}

// errViewRecordTooLong stops a views CSV whose record runs past MaxLine,
// which is almost always a quote that is never closed.
var errViewRecordTooLong = fmt.Errorf("a record is longer than %d KiB (an unclosed quote?)", MaxLine>>10)

// NewViewsCSVDecoder returns a ViewDecoder for a viewing history in CSV. The
// first row is the header: column names are the json names of
// schema.ViewingEvent (time, user, session, content, type, position_ms,
// watched_ms, device, region) in any order; time, user, content and type are
// required, the others optional. A header with an unknown, duplicate or
// missing required column is an error here, naming it.
//
// time is RFC 3339 or milliseconds since the epoch; type is start, heartbeat
// or stop; position_ms and watched_ms are whole milliseconds (empty means 0).
// The raw user id stays in v.User: the pipeline hashes it. Source is "views".
//
// A row with the wrong number of fields, bad CSV quoting or a bad value is a
// *RecordError with its line, and decoding goes on with the next row. A row
// longer than MaxLine stops decoding with an error (bounded memory).
func NewViewsCSVDecoder(r io.Reader, name string) (ViewDecoder, error) {
	text := newTextInput(r, name) // a UTF-8 BOM is skipped, UTF-16 refused
	in := &viewsInput{r: text}
	cr := csv.NewReader(in)
	in.cr = cr
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0 // set by the header row
	header, err := cr.Read()
	switch {
	case err == io.EOF:
		return nil, fmt.Errorf("%s: views CSV: no header row", name)
	case err != nil:
		return nil, fmt.Errorf("%s: views CSV header: %w", name, err)
	}
	d := &viewsCSV{name: name, cr: cr, width: len(header), text: text}
	if d.idx, err = viewHeader(header); err != nil {
		return nil, fmt.Errorf("%s:1: views CSV header: %w", name, err)
	}
	return d.decode, nil
}

// viewHeader maps each column to its index in a row, -1 when absent.
func viewHeader(header []string) ([viewNumColumns]int, error) {
	var idx [viewNumColumns]int
	for c := range idx {
		idx[c] = -1
	}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark, as spreadsheets write
		}
		h = strings.ToLower(strings.TrimSpace(h))
		c := 0
		for c < viewNumColumns && viewColumnNames[c] != h {
			c++
		}
		switch {
		case c == viewNumColumns:
			return idx, fmt.Errorf("unknown column %q (columns are %s)", h, strings.Join(viewColumnNames[:], ", "))
		case idx[c] >= 0:
			return idx, fmt.Errorf("column %q appears twice", h)
		}
		idx[c] = i
	}
	for c, need := range viewRequired {
		if need && idx[c] < 0 {
			return idx, fmt.Errorf("missing column %q", viewColumnNames[c])
		}
	}
	return idx, nil
}

// viewsInput is the reader under the csv.Reader: it refuses to let one
// record run past MaxLine bytes.
type viewsInput struct {
	r  io.Reader
	n  int64 // bytes read from r
	cr *csv.Reader
}

// Read reads from the file unless the current record is too long already.
func (in *viewsInput) Read(p []byte) (int, error) {
	// What was read but not yet returned as rows is the record being read
	// (plus the csv.Reader's 4 KiB buffer).
	if in.n-in.cr.InputOffset() > MaxLine {
		return 0, errViewRecordTooLong
	}
	n, err := in.r.Read(p)
	in.n += int64(n)
	return n, err
}

// viewsCSV decodes the rows after the header.
type viewsCSV struct {
	name  string
	cr    *csv.Reader
	width int                 // fields in the header
	idx   [viewNumColumns]int // column → field index, -1 when absent
	err   error               // sticky fatal error
	text  *textInput          // its skipped bytes (a BOM) shift offsets
}

// decode is the ViewDecoder: it reads the next row.
func (d *viewsCSV) decode(v *schema.ViewingEvent, pos *Position) error {
	if pos == nil {
		pos = new(Position)
	}
	if d.err != nil {
		return d.err
	}
	// The offset is where the previous row ended: blank lines the csv.Reader
	// skips before a row are counted in.
	*pos = Position{File: d.name, Offset: int64(d.text.skipped) + d.cr.InputOffset()}
	rec, err := d.cr.Read()
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		d.err = io.EOF
		return err
	case errors.As(err, &pe):
		pos.Line = int64(pe.StartLine)
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return &RecordError{Pos: *pos, Reason: fmt.Sprintf("%d fields, the header has %d", len(rec), d.width)}
		}
		return &RecordError{Pos: *pos, Reason: fmt.Sprintf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)}
	case err != nil:
		d.err = fmt.Errorf("%s: views CSV: %w", Position{File: d.name, Offset: int64(d.text.skipped) + d.cr.InputOffset()}, err)
		return d.err
	}
	line, _ := d.cr.FieldPos(0)
	pos.Line = int64(line)
	*v = schema.ViewingEvent{}
	if rerr := d.fill(rec, v); rerr != nil {
		rerr.Pos = *pos
		return rerr
	}
	return nil
}

// fill sets v from one row.
func (d *viewsCSV) fill(rec []string, v *schema.ViewingEvent) *RecordError {
	get := func(c int) string {
		if d.idx[c] < 0 {
			return ""
		}
		return strings.TrimSpace(rec[d.idx[c]])
	}
	t, rerr := parseViewTime(get(viewTime))
	if rerr != nil {
		return rerr
	}
	v.Time = t
	v.User, v.Session, v.Content = get(viewUser), get(viewSession), get(viewContent)
	v.Type, v.Device, v.Region = get(viewType), get(viewDevice), get(viewRegion)
	for _, c := range []int{viewPosition, viewWatched} {
		s := get(c)
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return badRecord(viewColumnNames[c], "%q is not a whole number of milliseconds", s)
		}
		if c == viewPosition {
			v.PositionMS = n
		} else {
			v.WatchedMS = n
		}
	}
	return viewProblem(v)
}

// parseViewTime parses RFC 3339 or milliseconds since the epoch.
func parseViewTime(s string) (time.Time, *RecordError) {
	if s == "" {
		return time.Time{}, badRecord("time", "missing")
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms <= 0 {
			return time.Time{}, badRecord("time", "%d is not a positive number of milliseconds since the epoch", ms)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRecord("time", "%q is neither RFC 3339 nor milliseconds since the epoch", s)
	}
	return t.UTC(), nil
}

// viewProblem sets the default source and returns the first problem
// validation finds with v.
func viewProblem(v *schema.ViewingEvent) *RecordError {
	v.Source = cmp.Or(v.Source, "views")
	for _, err := range v.Validate() {
		var fe *schema.FieldError
		if errors.As(err, &fe) {
			return badRecord(fe.Field, "%s", fe.Reason)
		}
		return badRecord("", "%v", err)
	}
	return nil
}

// viewsJSONRecord is one line of a views JSON lines file.
type viewsJSONRecord struct {
	Time       json.RawMessage `json:"time"`
	User       string          `json:"user"`
	Session    string          `json:"session"`
	Content    string          `json:"content"`
	Type       string          `json:"type"`
	PositionMS int64           `json:"position_ms"`
	WatchedMS  int64           `json:"watched_ms"`
	Device     string          `json:"device"`
	Region     string          `json:"region"`
	Source     string          `json:"source"`
}

// NewViewsJSONLDecoder returns a ViewDecoder for a viewing history in JSON
// lines: one object per line with the json names of schema.ViewingEvent.
// time is an RFC 3339 string or a number of milliseconds since the epoch;
// the other fields mean what they do in NewViewsCSVDecoder, and source
// defaults to "views". Unknown fields, bad values and lines over MaxLine are
// *RecordErrors naming the field; decoding goes on with the next line. Blank
// lines are skipped.
func NewViewsJSONLDecoder(r io.Reader, name string) ViewDecoder {
	lr := newLineReader(r, name)
	return func(v *schema.ViewingEvent, pos *Position) error {
		if pos == nil {
			pos = new(Position)
		}
		for {
			line, p, err := lr.next()
			*pos = p
			var rerr *RecordError
			switch {
			case err == io.EOF || errors.As(err, &rerr):
				return err
			case err != nil:
				return fmt.Errorf("%s: %w", p, err)
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			*v = schema.ViewingEvent{}
			if rerr := decodeViewLine(line, v); rerr != nil {
				rerr.Pos = p
				return rerr
			}
			return nil
		}
	}
}

// decodeViewLine fills v from one JSON line.
func decodeViewLine(line []byte, v *schema.ViewingEvent) *RecordError {
	var rec viewsJSONRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return jsonRecordError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRecord("", "data after the JSON object")
	}
	var ts string
	switch raw := bytes.TrimSpace(rec.Time); {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &ts); err != nil {
			return badRecord("time", "%v", err)
		}
		if ts == "" {
			return badRecord("time", "missing")
		}
	default:
		ts = string(raw) // a number: parseViewTime takes whole milliseconds
	}
	t, rerr := parseViewTime(ts)
	if rerr != nil {
		return rerr
	}
	*v = schema.ViewingEvent{
		Time: t, User: rec.User, Session: rec.Session, Content: rec.Content, Type: rec.Type,
		PositionMS: rec.PositionMS, WatchedMS: rec.WatchedMS, Device: rec.Device, Region: rec.Region,
		Source: rec.Source,
	}
	return viewProblem(v)
}
