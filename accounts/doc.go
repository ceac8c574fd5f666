// Package accounts owns the test-account pool built from viewing histories
// (docs/ACCOUNTS.md): Build turns a viewing-history capture into a pool
// directory, a Parquet file of accounts that carry their recorded user's
// history (account, user, credential, region, device, history) plus a
// fixed-width index; Open loads the index for replay in a few bytes per
// account, and a Lender leases the accounts exclusively to live virtual
// users, clone k of recorded user u taking one of u's accounts.
//
// A pool directory holds:
//
//	accounts.parquet  one row per account, grouped by recorded user in index order
//	index.bin         user hash → account range, and every account's name and credential
//	pool.json         how it was built (Meta)
//
// The package reads events through eventlog and depends on no replay or
// capture code.
package accounts
