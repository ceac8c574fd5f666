package eventlog

import (
	"path/filepath"
	"strings"
)

// FramesDir is the directory of a hive dataset that holds its WebSocket
// frames (schema.Frame): DIR/_frames, as surge capture proxy writes it.
const FramesDir = "_frames"

// FramesSuffix ends the name of the frames file beside a capture file.
const FramesSuffix = ".frames.parquet"

// FramesPath returns where the WebSocket frames of the capture at path
// live: "x.frames.parquet" beside a file "x.parquet", DIR/_frames for a
// dataset directory. Frames are a log of their own (one event type per
// file); surge import writes them there and surge replay reads them from
// there.
func FramesPath(path string) string {
	if strings.HasSuffix(path, ".parquet") {
		return strings.TrimSuffix(path, ".parquet") + FramesSuffix
	}
	return filepath.Join(path, FramesDir)
}
