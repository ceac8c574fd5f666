// Command testevents produces and checks the test events of kafkatest.Event
// outside a test binary, so that a test built with -race can move a million
// events at full speed. It is a test tool, not part of surge.
//
//	testevents produce kafka://HOST:PORT/TOPIC FROM N
//	testevents check DIR FROM N
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: testevents produce ADDR FROM N | check DIR FROM N")
		os.Exit(2)
	}
	from, err1 := strconv.Atoi(os.Args[3])
	n, err2 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "testevents: FROM and N must be integers")
		os.Exit(2)
	}
	start := time.Now()
	var t reporter
	switch os.Args[1] {
	case "produce":
		a, err := kafkalog.ParseAddr(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "testevents:", err)
			os.Exit(2)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = kafkalog.EnsureTopic(ctx, a)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testevents:", err)
			os.Exit(1)
		}
		kafkatest.Produce(&t, a, from, n)
		fmt.Printf("produced %d events in %s (%.0f/s)\n", n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())
	case "check":
		files := kafkatest.CheckArchiveRange(&t, os.Args[2], from, from+n)
		fmt.Printf("checked %d events in %d files in %s\n", n, files, time.Since(start).Round(time.Millisecond))
	default:
		fmt.Fprintf(os.Stderr, "testevents: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

// reporter is the testing.TB the kafkatest helpers need: a failure prints
// and exits 1.
type reporter struct{ testing.TB }

func (reporter) Helper() {}

func (reporter) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"testevents:"}, args...)...)
	os.Exit(1)
}

func (reporter) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testevents: "+format+"\n", args...)
	os.Exit(1)
}
