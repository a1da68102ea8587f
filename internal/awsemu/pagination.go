package awsemu

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// paginate returns the page of items that starts at token, at most
// min(maxResults, pageSize) long, and the token of the next page ("" on the
// last page). Tokens are opaque and bound to the operation, as real ones
// are; ok is false for a token this operation did not hand out, which each
// service reports with its own error.
func paginate[T any](op string, items []T, token string, maxResults, pageSize int) (page []T, next string, ok bool) {
	size := pageSize
	if maxResults > 0 && maxResults < size {
		size = maxResults
	}
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		i := strings.LastIndexByte(string(raw), ':')
		prefix, offset := string(raw[:max(i, 0)]), string(raw[i+1:])
		n, convErr := strconv.Atoi(offset)
		if err != nil || i < 0 || prefix != op || convErr != nil || n < 0 {
			return nil, "", false
		}
		start = min(n, len(items))
	}
	end := min(start+size, len(items))
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(end)))
	}
	return items[start:end], next, true
}
