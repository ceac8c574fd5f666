package accounts

import "time"

// Row is one account of a pool, a row of accounts.parquet.
type Row struct {
	// Account is the account's name (from the credentials CSV or the
	// account template).
	Account string `parquet:"account" json:"account"`
	// User is the recorded user (its keyed-hash id, as in the capture)
	// whose history the account carries.
	User string `parquet:"user" json:"user"`
	// Credential is what a virtual user signed in as the account presents
	// (the token of an Authorization header).
	Credential string `parquet:"credential" json:"credential"`
	// Region and Device are those of the user's latest viewing event.
	Region string `parquet:"region,dict" json:"region"`
	Device string `parquet:"device,dict" json:"device"`
	// History is the user's viewings, oldest first.
	History []Viewing `parquet:"history,list" json:"history"`
}

// Viewing is one entry of an account's history: the viewing events of one
// recorded session for one piece of content, folded into one.
type Viewing struct {
	Content string `parquet:"content,dict" json:"content"`
	// Time is the first event's time, shifted to the pool's epoch
	// (Meta.ShiftNS added).
	Time time.Time `parquet:"time,timestamp(nanosecond:utc)" json:"time"`
	// PositionMS is the furthest playback position the events reached, in
	// milliseconds.
	PositionMS int64 `parquet:"position_ms" json:"position_ms"`
	// Device is the first event's device.
	Device string `parquet:"device,dict" json:"device"`
}

// Meta describes a pool: pool.json, written last by Build.
type Meta struct {
	Version  int   `json:"version"`  // PoolVersion
	Accounts int64 `json:"accounts"` // rows of accounts.parquet
	Users    int64 `json:"users"`    // recorded users with accounts
	// PerUser is how many accounts each user has: ⌈RatioMax⌉.
	PerUser  int     `json:"per_user"`
	RatioMax float64 `json:"ratio_max"`
	Events   int64   `json:"events"`   // viewing events read
	Viewings int64   `json:"viewings"` // history entries (per user, not per account)
	// SkippedNoUser counts events without a user (anonymous viewing).
	SkippedNoUser int64 `json:"skipped_no_user"`
	// Collisions counts users whose UserHash equals another user's: they
	// share an index entry (both users' accounts).
	Collisions int64 `json:"collisions"`
	// SourceFirst and SourceLast are the first and last event times of
	// the source; Epoch is the time SourceLast was shifted to, ShiftNS
	// what was added to every history time.
	SourceFirst time.Time `json:"source_first"`
	SourceLast  time.Time `json:"source_last"`
	Epoch       time.Time `json:"epoch"`
	ShiftNS     int64     `json:"shift_ns"`
	Sources     []string  `json:"sources"`
	// Credentials says where credentials came from: "csv:PATH", or
	// "template:TEMPLATE" (minted).
	Credentials string `json:"credentials"`
	// Buckets is how many groups the build sorted the events in.
	Buckets int `json:"buckets"`
}

// PoolVersion is the version of the pool layout Build writes.
const PoolVersion = 1
