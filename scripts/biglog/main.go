// Command biglog writes a large synthetic access log in nginx/Apache combined
// format (see package synth), for benchmarks:
//
//	go run ./scripts/biglog -n 5000000 > big.log
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/surge-replay/surge/internal/synth"
)

func main() {
	n := flag.Int("n", 1_000_000, "lines")
	seed := flag.Uint64("seed", 1, "random seed")
	rate := flag.Float64("rate", 5000, "mean requests per second")
	flag.Parse()
	if err := synth.WriteCombined(os.Stdout, *n, *seed, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "biglog:", err)
		os.Exit(1)
	}
}
