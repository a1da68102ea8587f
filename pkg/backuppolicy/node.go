package backuppolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Kind is the JSON type of a Node.
type Kind int

// JSON value kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

func (k Kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "list", "object"}[k]
}

// Position is where a value starts in the source text.
type Position struct {
	// Line and Column are 1-based; Column counts characters.
	Line, Column int
	// Offset is the byte offset.
	Offset int
}

func (p Position) String() string {
	if p.Line == 0 {
		return ""
	}
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// Node is a JSON value that keeps its members in document order and its
// position in the source.
type Node struct {
	Kind Kind
	Pos  Position
	// Members of an object, in document order.
	Members []Member
	// Elems of an array.
	Elems []*Node
	// Text is a string's value or a number's literal.
	Text string
	// Bool is a boolean's value.
	Bool bool
}

// Member is one key of an object.
type Member struct {
	Key    string
	KeyPos Position
	Value  *Node
}

// Get returns the value of key in an object, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Object {
		return nil
	}
	for _, m := range n.Members {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// Set replaces the value of key, or appends the key when absent.
func (n *Node) Set(key string, v *Node) {
	for i := range n.Members {
		if n.Members[i].Key == key {
			n.Members[i].Value = v
			return
		}
	}
	n.Members = append(n.Members, Member{Key: key, Value: v})
}

// NewString returns a string node.
func NewString(s string) *Node { return &Node{Kind: String, Text: s} }

// NewStrings returns a list of string nodes.
func NewStrings(ss []string) *Node {
	n := &Node{Kind: Array, Elems: []*Node{}}
	for _, s := range ss {
		n.Elems = append(n.Elems, NewString(s))
	}
	return n
}

// Minify returns the node as JSON without insignificant whitespace, members
// in document order. Strings are written with the shortest standard escapes,
// so "\u00e9" in the source becomes "é": the same value, fewer characters.
func (n *Node) Minify() []byte {
	var buf bytes.Buffer
	n.write(&buf)
	return buf.Bytes()
}

func (n *Node) write(buf *bytes.Buffer) {
	switch n.Kind {
	case Null:
		buf.WriteString("null")
	case Bool:
		if n.Bool {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case Number:
		buf.WriteString(n.Text)
	case String:
		writeString(buf, n.Text)
	case Array:
		buf.WriteByte('[')
		for i, e := range n.Elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			e.write(buf)
		}
		buf.WriteByte(']')
	case Object:
		buf.WriteByte('{')
		for i, m := range n.Members {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, m.Key)
			buf.WriteByte(':')
			m.Value.write(buf)
		}
		buf.WriteByte('}')
	}
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}

// Chars counts characters the way the Organizations size limit does.
func Chars(b []byte) int { return utf8.RuneCount(b) }
