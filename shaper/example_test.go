package shaper_test

import (
	"fmt"
	"io"
	"log"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

func ExampleNew() {
	t0 := time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)
	capture := []schema.Exchange{
		{Time: t0, Session: "s_a", User: "u_1", Seq: 0, Method: "GET", Path: "/live/1"},
		{Time: t0.Add(2 * time.Second), Session: "s_b", User: "u_2", Seq: 0, Method: "GET", Path: "/vod/9"},
		{Time: t0.Add(4 * time.Second), Session: "s_a", User: "u_1", Seq: 1, Method: "GET", Path: "/live/2"},
	}
	// An Opener over a slice; a real one reads a Parquet file or a topic.
	open := func() (shaper.Source, error) {
		i := 0
		return func() (*schema.Exchange, error) {
			if i == len(capture) {
				return nil, io.EOF
			}
			i++
			return &capture[i-1], nil
		}, nil
	}
	s, err := shaper.New(shaper.Config{
		From:   t0,
		To:     t0.Add(10 * time.Second),
		Speed:  2,                      // twice as fast
		Ratio:  shaper.Constant(2),     // two virtual sessions per recorded one
		Spread: 500 * time.Millisecond, // clone 1 starts up to 0.5 s later
		Seed:   1,
	}, open)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(s.Plan())
	for {
		r, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-12v %s clone %d as %s user %s first=%t think=%v %s\n",
			r.At, r.Session, r.Clone, r.VirtualSession, r.User, r.First, r.Think, r.Exchange.Path)
	}
	fmt.Printf("%+v\n", s.Stats())
	// Output:
	// window    2026-06-01T20:00:00Z to 2026-06-01T20:00:10Z (10s)
	// speed     2x
	// loops     1
	// ratio     2x
	// seed      1
	// spread    500ms (clone start jitter)
	// idle gap  30m0s
	// duration  5s
	// 0s           s_a clone 0 as s_a user u_1 first=true think=0s /live/1
	// 139.479408ms s_a clone 1 as s_ecddffe19c4bd80a user u_51a009edabf32bf1 first=true think=0s /live/1
	// 1s           s_b clone 0 as s_b user u_2 first=true think=0s /vod/9
	// 1.000614501s s_b clone 1 as s_ba5a5c3977f56be9 user u_de28b72be3a5f06d first=true think=0s /vod/9
	// 2s           s_a clone 0 as s_a user u_1 first=false think=2s /live/2
	// 2.139479408s s_a clone 1 as s_ecddffe19c4bd80a user u_51a009edabf32bf1 first=false think=2s /live/2
	// {Sessions:2 Dropped:0 VirtualSessions:4 Events:3 Skipped:0 Requests:6 MaxHeld:3 MaxLive:2 Exited:0 FollowUps:0 Controls:0}
}
