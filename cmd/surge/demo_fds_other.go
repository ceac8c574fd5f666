//go:build !unix

package main

// demoMaxConns is the demo's connection bound where the descriptor limit is
// not known.
func demoMaxConns() int { return demoDefaultConns }
