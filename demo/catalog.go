package demo

import (
	"strconv"
	"unicode/utf8"
)

// catalogSize is the number of titles in the demo catalogue.
const catalogSize = 64

// catalog holds every title as a ready JSON object (about 250 bytes each),
// built once: responses are assembled by appending these, not by encoding.
var catalog = buildCatalog()

// rails are the home screen's rails, in order.
var rails = []string{"live-now", "continue-watching", "trending", "football", "sport-highlights", "new-releases", "documentaries", "kids"}

var (
	titleFirst = []string{"Northbridge", "Rovers", "Midnight", "Harbour", "Iron", "Silver", "Northern", "Last"}
	titleLast  = []string{"v Rovers: Extended Highlights", "Rising", "Files", "Season Review", "Coast", "Kitchen", "Derby Day", "Frontier"}
	kinds      = []string{"episode", "movie", "live", "clip"}
	ratings    = []string{"U", "PG", "12", "15"}
	chatLines  = []string{
		"what a save!!", "ref needs glasses", "come on Northbridge", "that was never offside",
		"GOAL", "stream is smooth tonight", "anyone else watching from the pub?", "Rovers look tired",
		"half-time snacks sorted", "2-1 incoming", "best derby in years", "VAR again...",
		"unbelievable strike", "keeper was asleep", "subs now please", "here we go",
	}
)

func buildCatalog() [][]byte {
	items := make([][]byte, catalogSize)
	for i := range items {
		id := "t" + strconv.Itoa(10000+i*37)
		var b []byte
		b = append(b, `{"id":"`...)
		b = append(b, id...)
		b = append(b, `","type":"`...)
		b = append(b, kinds[i%len(kinds)]...)
		b = append(b, `","title":"`...)
		b = append(b, titleFirst[i%len(titleFirst)]...)
		b = append(b, ' ')
		b = append(b, titleLast[i/len(titleFirst)%len(titleLast)]...)
		b = append(b, `","duration_s":`...)
		b = strconv.AppendInt(b, int64(600+i*97%5400), 10)
		b = append(b, `,"rating":"`...)
		b = append(b, ratings[i%len(ratings)]...)
		b = append(b, `","year":`...)
		b = strconv.AppendInt(b, int64(2018+i%9), 10)
		b = append(b, `,"image":"https://img.streamco.example/`...)
		b = append(b, id...)
		b = append(b, `/16x9/640.jpg","badges":["hd"`...)
		if i%3 == 0 {
			b = append(b, `,"new"`...)
		}
		b = append(b, `]}`...)
		items[i] = b
	}
	return items
}

// appendItems appends n catalogue titles starting at title first (wrapping
// around), as the elements of a JSON array.
func appendItems(dst []byte, first uint64, n int) []byte {
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, catalog[(first+uint64(i))%catalogSize]...)
	}
	return append(dst, ']')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// hashString is FNV-1a of s, mixed: it picks a deterministic variant of a
// response for a request (the same search gives the same results).
func hashString(seed uint64, s string) uint64 {
	h := uint64(14695981039346656037) ^ seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return splitmix64(h)
}
