package schema

import "github.com/apache/arrow-go/v18/arrow"

// Arrow schemas of the event types, with standard types only so DuckDB,
// pyarrow and Spark read surge's Parquet natively. They are what a reader of
// surge's Parquet files sees; a test keeps them equal to what the Parquet
// layout (the struct tags) produces.
var (
	ExchangeArrow = arrow.NewSchema([]arrow.Field{
		{Name: "time", Type: timestamp},
		{Name: "session", Type: arrow.BinaryTypes.String},
		{Name: "user", Type: arrow.BinaryTypes.String},
		{Name: "seq", Type: arrow.PrimitiveTypes.Int32},
		{Name: "method", Type: arrow.BinaryTypes.String},
		{Name: "scheme", Type: arrow.BinaryTypes.String},
		{Name: "host", Type: arrow.BinaryTypes.String},
		{Name: "path", Type: arrow.BinaryTypes.String},
		{Name: "query", Type: arrow.BinaryTypes.String},
		{Name: "headers", Type: arrow.ListOfNonNullable(headerStruct)},
		{Name: "body", Type: arrow.BinaryTypes.Binary},
		{Name: "body_size", Type: arrow.PrimitiveTypes.Int64},
		{Name: "body_truncated", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "status", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "response_bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "latency_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "region", Type: arrow.BinaryTypes.String},
		{Name: "device", Type: arrow.BinaryTypes.String},
		{Name: "protocol", Type: arrow.BinaryTypes.String},
		{Name: "source", Type: arrow.BinaryTypes.String},
		{Name: "connection_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)

	FrameArrow = arrow.NewSchema([]arrow.Field{
		{Name: "time", Type: timestamp},
		{Name: "session", Type: arrow.BinaryTypes.String},
		{Name: "conn", Type: arrow.BinaryTypes.String},
		{Name: "seq", Type: arrow.PrimitiveTypes.Int32},
		{Name: "direction", Type: arrow.BinaryTypes.String},
		{Name: "opcode", Type: arrow.PrimitiveTypes.Int32},
		{Name: "payload", Type: arrow.BinaryTypes.Binary},
		{Name: "payload_size", Type: arrow.PrimitiveTypes.Int64},
		{Name: "payload_truncated", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "source", Type: arrow.BinaryTypes.String},
	}, nil)

	ViewArrow = arrow.NewSchema([]arrow.Field{
		{Name: "time", Type: timestamp},
		{Name: "user", Type: arrow.BinaryTypes.String},
		{Name: "session", Type: arrow.BinaryTypes.String},
		{Name: "content", Type: arrow.BinaryTypes.String},
		{Name: "type", Type: arrow.BinaryTypes.String},
		{Name: "position_ms", Type: arrow.PrimitiveTypes.Int64},
		{Name: "watched_ms", Type: arrow.PrimitiveTypes.Int64},
		{Name: "device", Type: arrow.BinaryTypes.String},
		{Name: "region", Type: arrow.BinaryTypes.String},
		{Name: "source", Type: arrow.BinaryTypes.String},
	}, nil)
)

// ResultArrow is the Arrow schema of replay results.
var ResultArrow = arrow.NewSchema([]arrow.Field{
	{Name: "intended", Type: timestamp},
	{Name: "sent", Type: timestamp, Nullable: true},
	{Name: "latency_ns", Type: arrow.PrimitiveTypes.Int64},
	{Name: "service_ns", Type: arrow.PrimitiveTypes.Int64},
	{Name: "lateness_ns", Type: arrow.PrimitiveTypes.Int64},
	{Name: "status", Type: arrow.PrimitiveTypes.Int32},
	{Name: "bytes_out", Type: arrow.PrimitiveTypes.Int64},
	{Name: "bytes_in", Type: arrow.PrimitiveTypes.Int64},
	{Name: "error", Type: arrow.BinaryTypes.String},
	{Name: "session", Type: arrow.BinaryTypes.String},
	{Name: "clone", Type: arrow.PrimitiveTypes.Int32},
	{Name: "user", Type: arrow.BinaryTypes.String},
	{Name: "seq", Type: arrow.PrimitiveTypes.Int32},
	{Name: "method", Type: arrow.BinaryTypes.String},
	{Name: "route", Type: arrow.BinaryTypes.String},
	{Name: "region", Type: arrow.BinaryTypes.String},
	{Name: "device", Type: arrow.BinaryTypes.String},
	{Name: "queue_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "connect_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "conn", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "tls", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "retries", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "detail", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "recorded_status", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	// WebSocket connection facts (schema 1.2).
	{Name: "ws", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "ws_attempt", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "ws_duration_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_frames_out", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_bytes_out", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_frames_in", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_bytes_in", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_skipped", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_close_code", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "ws_close_by", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "ws_late_p99_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_late_max_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_gaps", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_duplicates", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_regressions", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_silences", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_stale_max_ns", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ws_stale_on_reconnect", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

var (
	timestamp    = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	headerStruct = arrow.StructOf(
		arrow.Field{Name: "name", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.String},
	)
)

// ArrowOf returns the Arrow schema of a kind of event file.
func ArrowOf(k Kind) *arrow.Schema {
	switch k {
	case KindExchange:
		return ExchangeArrow
	case KindFrame:
		return FrameArrow
	case KindView:
		return ViewArrow
	case KindResult:
		return ResultArrow
	}
	return nil
}
