package report

import (
	"fmt"
	"testing"
)

func TestRouteGroup(t *testing.T) {
	tests := []struct {
		method, path, want string
	}{
		// Static paths stay.
		{"GET", "/api/v1/home", "GET /api/v1/home"},
		// A numeric id.
		{"GET", "/api/v1/users/12345/profile", "GET /api/v1/users/{n}/profile"},
		// A UUID.
		{"DELETE", "/items/3f2a9c1b-8d4e-4b1a-9c3d-2e5f6a7b8c9d", "DELETE /items/{id}"},
		// Long hex.
		{"GET", "/blobs/9f86d081884c7d659a2feaa0c55ad015", "GET /blobs/{id}"},
		// A segment number inside a file name; a year-like suffix of a slug stays.
		{"GET", "/live/final-2026/seg-1234.ts", "GET /live/final-2026/seg-{n}.ts"},
		// Versions glued to letters stay.
		{"GET", "/v2/h264/manifest.m3u8", "GET /v2/h264/manifest.m3u8"},
		// A mostly-digit token is an id.
		{"GET", "/u/8842k77/feed", "GET /u/{id}/feed"},
		// Root and empty.
		{"GET", "/", "GET /"},
		{"GET", "", "GET /"},
	}
	for _, tt := range tests {
		if got := RouteGroup(tt.method, tt.path); got != tt.want {
			t.Errorf("RouteGroup(%q, %q) = %q; want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func ExampleRouteGroup() {
	fmt.Println(RouteGroup("GET", "/live/final-2026/seg-1234.ts"))
	fmt.Println(RouteGroup("GET", "/api/v1/users/42"))
	// Output:
	// GET /live/final-2026/seg-{n}.ts
	// GET /api/v1/users/{n}
}
