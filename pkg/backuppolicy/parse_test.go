package backuppolicy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, "line 1, column 1: unexpected end of JSON input"},
		{"trailing comma in object", "{\n  \"plans\": {},\n}", "line 3, column 1: invalid character '}' looking for beginning of object key string"},
		{"missing colon", `{"plans" {}}`, "line 1, column 10: invalid character '{' after object key"},
		{"unterminated string", `{"plans": "abc`, "unexpected end of JSON input, expecting closing '\"' of string"},
		{"bad escape", `{"a": "\x"}`, `line 1, column 9: invalid character 'x' in string escape code`},
		{"control char", "{\"a\": \"x\ty\"}", `invalid control character '\t' in string`},
		{"duplicate key with position", "{\n  \"plans\": {},\n  \"plans\": {}\n}", `line 3, column 3: duplicate key "plans"`},
		{"leading zero", `{"a": 01}`, `line 1, column 8: invalid character '1' after object key:value pair`},
		{"bad literal", `{"a": tru}`, `invalid character '}' in literal true`},
		{"after top level", `{} {}`, `line 1, column 4: invalid character '{' after top-level value`},
		{"multibyte column", "{\"ポリシー\": x}", `line 1, column 10: invalid character 'x' looking for beginning of value`},
		{"too deep", strings.Repeat("[", 100), "exceeded max depth of 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseJSON([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseJSON(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseJSONKeepsOrderAndPositions(t *testing.T) {
	t.Parallel()
	in := "{\n  \"z\": 1,\n  \"a\": [true, null, \"\\u00e9\"],\n  \"m\": {\"k\": -1.5e3}\n}"
	n, err := ParseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(n.Minify()), `{"z":1,"a":[true,null,"é"],"m":{"k":-1.5e3}}`; got != want {
		t.Errorf("Minify = %s, want %s", got, want)
	}
	if got := n.Get("a").Pos; got.Line != 3 || got.Column != 8 {
		t.Errorf("position of a = %v, want line 3, column 8", got)
	}
	if got := n.Members[2].KeyPos; got.Line != 4 || got.Column != 3 {
		t.Errorf("position of key m = %v, want line 4, column 3", got)
	}
}

// FuzzParseJSON checks the parser against encoding/json: the same inputs are
// valid (apart from duplicate keys, which this parser rejects on purpose),
// valid inputs decode to the same value, and minifying is lossless.
func FuzzParseJSON(f *testing.F) {
	addTestdataSeeds(f)
	for _, s := range []string{
		`{"plans":{"Daily":{"regions":{"@@append":["us-east-1"]}}}}`,
		`[1, -0.5e+3, "a\u00e9\ud83d\ude00", true, false, null, {}]`,
		"{\"a\":\"\xff\"}", `"\ud800"`, `{"a":1,"a":2}`, `01`, `1.`, `-`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseJSON(data)
		stdValid := json.Valid(data)
		if err != nil {
			if stdValid && !strings.Contains(err.Error(), "duplicate key") && !strings.Contains(err.Error(), "max depth") {
				t.Fatalf("rejected valid JSON %q: %v", data, err)
			}
			return
		}
		if !stdValid {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, n.Interface()); diff != "" {
			t.Fatalf("value differs from encoding/json (-std +ours):\n%s", diff)
		}
		again, err := ParseJSON(n.Minify())
		if err != nil {
			t.Fatalf("minified form does not parse: %v\n%s", err, n.Minify())
		}
		if !bytes.Equal(again.Minify(), n.Minify()) {
			t.Fatalf("minify is not stable: %s vs %s", n.Minify(), again.Minify())
		}
	})
}

// Interface returns (for the tests' comparisons) the value as encoding/json would decode it (map[string]any,
// []any, string, float64 as json.Number, bool, nil).
func (n *Node) Interface() any {
	switch n.Kind {
	case Bool:
		return n.Bool
	case Number:
		return json.Number(n.Text)
	case String:
		return n.Text
	case Array:
		out := make([]any, len(n.Elems))
		for i, e := range n.Elems {
			out[i] = e.Interface()
		}
		return out
	case Object:
		out := make(map[string]any, len(n.Members))
		for _, m := range n.Members {
			out[m.Key] = m.Value.Interface()
		}
		return out
	}
	return nil
}
