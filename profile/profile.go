package profile

import (
	"time"
)

// FormatVersion is the version of the profile directory layout, written to
// profile.yaml. Load refuses another major version.
const FormatVersion = "1"

// MetaFile is the name of a profile's metadata file inside its directory.
const MetaFile = "profile.yaml"

// Table file names inside a profile directory. Every table is a Parquet
// file; their columns are the parquet tags of the row types below.
const (
	TableArrivalsSecond  = "arrivals_second.parquet"  // ArrivalSecond rows
	TableArrivalsMinute  = "arrivals_minute.parquet"  // ArrivalMinute rows
	TableRoutesMinute    = "routes_minute.parquet"    // RouteMinute rows
	TableConcurrency     = "concurrency.parquet"      // Live rows
	TableSessionLength   = "session_length.parquet"   // LengthBucket rows
	TableSessionRequests = "session_requests.parquet" // CountBucket rows
	TableThinkTime       = "think_time.parquet"       // ThinkBucket rows
	TableTransitions     = "transitions.parquet"      // Transition rows
	TableMix             = "mix.parquet"              // Mix rows
	TableStatus          = "status.parquet"           // StatusCount rows
	TableMoments         = "moments.parquet"          // Moment rows
)

// Tables lists every table file of a profile, in the order they are
// written and documented.
var Tables = []string{
	TableArrivalsSecond, TableArrivalsMinute, TableRoutesMinute, TableConcurrency,
	TableSessionLength, TableSessionRequests, TableThinkTime, TableTransitions,
	TableMix, TableStatus, TableMoments,
}

// Pseudo routes of the transition matrix: a session's first request is a
// transition from StartRoute, and its last one is followed by one to
// EndRoute, so each from-route's probabilities sum to 1 and the matrix is
// a complete Markov chain of a class's sessions.
const (
	StartRoute = "(start)"
	EndRoute   = "(end)"
)

// OtherRoute is the route group that route groups beyond
// Parameters.MaxRoutes (in order of first appearance) are counted under.
const OtherRoute = "(other)"

// Mix dimensions (Mix.Dimension).
const (
	DimRegion   = "region"
	DimDevice   = "device"
	DimProtocol = "protocol"
)

// Moment curves (Moment.Curve).
const (
	CurveArrivals    = "arrivals"
	CurveConcurrency = "concurrency"
)

// Profile is a traffic profile: Meta (profile.yaml) and the tables. Every
// time is UTC; minute and second rows are the start of their bucket and
// cover the profile's span without gaps (zero rows included), so a curve
// is its table in order.
type Profile struct {
	Meta Meta

	ArrivalsSecond  []ArrivalSecond
	ArrivalsMinute  []ArrivalMinute
	RoutesMinute    []RouteMinute // per minute, then route in Meta.Routes order; zero counts left out
	Concurrency     []Live
	SessionLength   []LengthBucket // per class, buckets ascending; empty buckets left out
	SessionRequests []CountBucket
	ThinkTime       []ThinkBucket
	Transitions     []Transition
	Mix             []Mix // per minute, dimension, value; zero rows left out
	Status          []StatusCount
	Moments         []Moment // in time order
}

// Meta is profile.yaml: where the profile came from, its time range and
// totals, its resolution and the parameters it was built with.
type Meta struct {
	// Version is FormatVersion at build time.
	Version string `yaml:"version"`
	// Capture names the files the profile was built from.
	Capture []string `yaml:"capture"`
	// Source is the capture's importer (surge.source), "mixed" when its
	// files differ.
	Source string `yaml:"source,omitempty"`
	// Built is when the profile was built (wall clock).
	Built time.Time `yaml:"built"`
	// First and Last are the times of the first and last request read.
	First time.Time `yaml:"first"`
	Last  time.Time `yaml:"last"`
	// Start is First truncated to the minute: the time of the first row
	// of every time table. Minutes is how many minute rows they have,
	// Seconds how many second rows.
	Start   time.Time `yaml:"start"`
	Minutes int       `yaml:"minutes"`
	Seconds int       `yaml:"seconds"`
	// Totals.
	Requests int64 `yaml:"requests"`
	Sessions int64 `yaml:"sessions"`
	// PeakConcurrency is the most sessions live in one second.
	PeakConcurrency int64 `yaml:"peak_concurrency"`
	// Routes are the route groups (report.RouteGroup), in order of first
	// appearance, OtherRoute last when some were folded into it.
	Routes []string `yaml:"routes"`
	// Classes are the session classes, in the order of their rules.
	Classes []string `yaml:"classes"`
	// Resolution says how fine each table is.
	Resolution Resolution `yaml:"resolution"`
	// Parameters are the build parameters.
	Parameters Parameters `yaml:"parameters"`
	// Tables lists the table files (Tables).
	Tables []string `yaml:"tables"`
}

// Resolution is the resolution of a profile's tables.
type Resolution struct {
	// Capture is the capture's time resolution (surge.time_resolution,
	// "1s" for an access log), empty when unknown.
	Capture string `yaml:"capture,omitempty"`
	// ArrivalsSecond, ArrivalsMinute and the other curves' bucket widths.
	ArrivalsSecond string `yaml:"arrivals_second"`
	Minute         string `yaml:"minute"`
	Concurrency    string `yaml:"concurrency"`
	// Histogram describes the histogram buckets (HistogramScheme).
	Histogram string `yaml:"histogram"`
}

// Parameters are the knobs of Build, written to profile.yaml.
type Parameters struct {
	// SessionIdle ends a session after this much capture time without a
	// request (a Go duration).
	SessionIdle string `yaml:"session_idle"`
	// MaxRoutes bounds the number of route groups; later ones count as
	// OtherRoute.
	MaxRoutes int `yaml:"max_routes"`
	// Classes are the session class rules ("NAME=COND[,COND]"), empty for
	// the default: the device of the session's first request.
	Classes []string `yaml:"classes,omitempty"`
	// MomentChange is the least relative change of a notable moment
	// (0.3 = 30%).
	MomentChange float64 `yaml:"moment_change"`
	// MomentWindow is the longest rise or drop, in minutes.
	MomentWindow int `yaml:"moment_window"`
	// MomentZ is how many standard deviations of count noise a change
	// must exceed (|b−a| ≥ z·√(a+b)).
	MomentZ float64 `yaml:"moment_z"`
	// MomentEdge is the minutes at each end of the capture not searched
	// for moments (sessions cut by the capture's ends).
	MomentEdge int `yaml:"moment_edge"`
}

// ArrivalSecond is how many new sessions arrived in one second.
type ArrivalSecond struct {
	Time     time.Time `parquet:"time,timestamp(millisecond:utc)"`
	Sessions int64     `parquet:"sessions"`
}

// ArrivalMinute is how many new sessions arrived, and how many requests
// were made, in one minute.
type ArrivalMinute struct {
	Time     time.Time `parquet:"time,timestamp(millisecond:utc)"`
	Sessions int64     `parquet:"sessions"`
	Requests int64     `parquet:"requests"`
}

// RouteMinute is how many requests one route group had in one minute.
type RouteMinute struct {
	Time     time.Time `parquet:"time,timestamp(millisecond:utc)"`
	Route    string    `parquet:"route,dict"`
	Requests int64     `parquet:"requests"`
}

// Live is how many sessions were live in one second: those whose first
// request is at or before it and whose last request is at or after it.
type Live struct {
	Time time.Time `parquet:"time,timestamp(millisecond:utc)"`
	Live int64     `parquet:"live"`
}

// LengthBucket is one bucket of a class's session-length histogram:
// sessions whose last request came LowerMS ≤ length < UpperMS
// milliseconds after their first.
type LengthBucket struct {
	Class    string `parquet:"class,dict"`
	LowerMS  int64  `parquet:"lower_ms"`
	UpperMS  int64  `parquet:"upper_ms"`
	Sessions int64  `parquet:"sessions"`
}

// CountBucket is one bucket of a class's requests-per-session histogram:
// sessions with Lower ≤ requests < Upper.
type CountBucket struct {
	Class    string `parquet:"class,dict"`
	Lower    int64  `parquet:"lower"`
	Upper    int64  `parquet:"upper"`
	Sessions int64  `parquet:"sessions"`
}

// ThinkBucket is one bucket of the think-time histogram of a route
// transition: requests of route To that followed a request of route From in
// the same session by LowerMS ≤ gap < UpperMS milliseconds (start to
// start).
type ThinkBucket struct {
	From    string `parquet:"from_route,dict"`
	To      string `parquet:"to_route,dict"`
	LowerMS int64  `parquet:"lower_ms"`
	UpperMS int64  `parquet:"upper_ms"`
	Count   int64  `parquet:"count"`
}

// Transition is one cell of a class's route-transition matrix: of the
// Count-carrying moves out of From in sessions of Class, the share
// (Probability) that went to To. From is StartRoute for first requests;
// To is EndRoute for last ones.
type Transition struct {
	Class       string  `parquet:"class,dict"`
	From        string  `parquet:"from_route,dict"`
	To          string  `parquet:"to_route,dict"`
	Count       int64   `parquet:"count"`
	Probability float64 `parquet:"probability"`
}

// Mix is one value of a dimension (DimRegion, DimDevice, DimProtocol) in
// one minute: its requests, and the new sessions whose first request had
// it. An empty recorded value is "unknown".
type Mix struct {
	Time      time.Time `parquet:"time,timestamp(millisecond:utc)"`
	Dimension string    `parquet:"dimension,dict"`
	Value     string    `parquet:"value,dict"`
	Requests  int64     `parquet:"requests"`
	Sessions  int64     `parquet:"sessions"`
}

// StatusCount is how many requests of a route group got a status over the
// whole profile; Status 0 means the capture recorded none.
type StatusCount struct {
	Route    string `parquet:"route,dict"`
	Status   int32  `parquet:"status"`
	Requests int64  `parquet:"requests"`
}

// Moment is a notable moment: a sharp rise or drop of a curve (CurveArrivals:
// new sessions per minute; CurveConcurrency: mean live sessions per
// minute) from minute Time−1 to minute Time+Minutes−1, with the routes
// whose requests moved most over the same minutes. The detection rule is
// in docs/PROFILES.md.
type Moment struct {
	Time    time.Time `parquet:"time,timestamp(millisecond:utc)"`
	Minutes int32     `parquet:"minutes"`
	Curve   string    `parquet:"curve,dict"`
	// From and To are the curve's values in the minute before and the
	// last minute of the change; Change is (To−From)/From.
	From   float64 `parquet:"from_value"`
	To     float64 `parquet:"to_value"`
	Change float64 `parquet:"change"`
	// Routes says which route groups moved: "GET /api/v1/home 120→360 (×3.0); …".
	Routes string `parquet:"routes"`
	// Description is the moment in one sentence.
	Description string `parquet:"description"`
}
