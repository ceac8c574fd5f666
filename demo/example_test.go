package demo_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/surge-replay/surge/demo"
)

func ExampleStart() {
	srv, err := demo.Start(demo.Config{}) // 127.0.0.1, a free port
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL()+"/api/v1/search?q=northbridge", nil)
	req.Header.Set("Authorization", "Bearer {{secret:test}}") // any non-empty value
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))

	st, _ := srv.Stats().Class("search")
	fmt.Println("search served:", st.Served, "of capacity", st.Capacity)
	// Output:
	// 200 OK application/json
	// search served: 1 of capacity 4
}
