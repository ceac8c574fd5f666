package main

import (
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// frameSink writes the WebSocket frames of an import beside its exchanges
// (eventlog.FramesPath), created at the first frame: an import without
// WebSocket messages writes no frames file.
type frameSink struct {
	path string
	cfg  eventlog.WriterConfig
	sink eventlog.Sink[schema.Frame]
}

// add is capture.Options.Frames.
func (f *frameSink) add(fr *schema.Frame) error {
	if f.sink == nil {
		s, err := eventlog.CreateSink[schema.Frame](f.path, f.cfg)
		if err != nil {
			return err
		}
		f.sink = s
	}
	return f.sink.Add(fr)
}

// finish puts the frames in place when ok, else discards them.
func (f *frameSink) finish(ok bool) error {
	if f.sink == nil {
		return nil
	}
	if !ok {
		f.sink.Abort()
		return nil
	}
	return f.sink.Close()
}
