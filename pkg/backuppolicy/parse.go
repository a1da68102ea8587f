package backuppolicy

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// SyntaxError is a JSON syntax error with its position.
type SyntaxError struct {
	Pos Position
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

// maxDepth bounds nesting; backup policies are at most about ten levels
// deep, and the bound keeps hostile input from exhausting the stack.
const maxDepth = 64

// ParseJSON parses one JSON value into a Node tree. Unlike encoding/json it
// rejects duplicate object keys (Organizations does too) and reports every
// error with its line and column.
func ParseJSON(data []byte) (*Node, error) {
	p := &parser{data: data, line: 1}
	p.skipSpace()
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i < len(p.data) {
		return nil, p.errorf("invalid character %s after top-level value", p.quoteChar())
	}
	return n, nil
}

type parser struct {
	data []byte
	i    int
	// line, lineStart and the column cursor make positions cheap: they
	// are asked for in increasing order, so counting characters from the
	// last position is enough.
	line, lineStart int
	colOffset, col  int
}

func (p *parser) pos() Position {
	if p.colOffset < p.lineStart {
		p.colOffset, p.col = p.lineStart, 0
	}
	p.col += utf8.RuneCount(p.data[p.colOffset:p.i])
	p.colOffset = p.i
	return Position{Line: p.line, Column: p.col + 1, Offset: p.i}
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Pos: p.pos(), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) quoteChar() string {
	r, _ := utf8.DecodeRune(p.data[p.i:])
	return fmt.Sprintf("%q", r)
}

func (p *parser) skipSpace() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case '\n':
			p.line++
			p.lineStart = p.i + 1
		case ' ', '\t', '\r':
		default:
			return
		}
		p.i++
	}
}

func (p *parser) eof(what string) error {
	return p.errorf("unexpected end of JSON input, expecting %s", what)
}

func (p *parser) value(depth int) (*Node, error) {
	if p.i >= len(p.data) {
		return nil, p.eof("a value")
	}
	if depth > maxDepth {
		return nil, p.errorf("exceeded max depth of %d", maxDepth)
	}
	pos := p.pos()
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object(pos, depth)
	case c == '[':
		return p.array(pos, depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &Node{Kind: String, Pos: pos, Text: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(pos)
	case c == 't':
		return p.literal(pos, "true", &Node{Kind: Bool, Bool: true})
	case c == 'f':
		return p.literal(pos, "false", &Node{Kind: Bool})
	case c == 'n':
		return p.literal(pos, "null", &Node{Kind: Null})
	}
	return nil, p.errorf("invalid character %s looking for beginning of value", p.quoteChar())
}

func (p *parser) literal(pos Position, word string, n *Node) (*Node, error) {
	for k := 0; k < len(word); k++ {
		if p.i >= len(p.data) {
			return nil, p.eof("literal " + word)
		}
		if p.data[p.i] != word[k] {
			return nil, p.errorf("invalid character %s in literal %s", p.quoteChar(), word)
		}
		p.i++
	}
	n.Pos = pos
	return n, nil
}

func (p *parser) object(pos Position, depth int) (*Node, error) {
	n := &Node{Kind: Object, Pos: pos, Members: []Member{}}
	p.i++ // {
	p.skipSpace()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return n, nil
	}
	seen := map[string]bool{}
	for {
		if p.i >= len(p.data) {
			return nil, p.eof("an object key")
		}
		if p.data[p.i] != '"' {
			return nil, p.errorf("invalid character %s looking for beginning of object key string", p.quoteChar())
		}
		keyPos := p.pos()
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, &SyntaxError{Pos: keyPos, Msg: fmt.Sprintf("duplicate key %q (AWS Organizations rejects duplicate keys)", key)}
		}
		seen[key] = true
		p.skipSpace()
		if p.i >= len(p.data) {
			return nil, p.eof("':' after object key")
		}
		if p.data[p.i] != ':' {
			return nil, p.errorf("invalid character %s after object key", p.quoteChar())
		}
		p.i++
		p.skipSpace()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Members = append(n.Members, Member{Key: key, KeyPos: keyPos, Value: v})
		p.skipSpace()
		if p.i >= len(p.data) {
			return nil, p.eof("',' or '}' after object key:value pair")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
			p.skipSpace()
		case '}':
			p.i++
			return n, nil
		default:
			return nil, p.errorf("invalid character %s after object key:value pair", p.quoteChar())
		}
	}
}

func (p *parser) array(pos Position, depth int) (*Node, error) {
	n := &Node{Kind: Array, Pos: pos, Elems: []*Node{}}
	p.i++ // [
	p.skipSpace()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Elems = append(n.Elems, v)
		p.skipSpace()
		if p.i >= len(p.data) {
			return nil, p.eof("',' or ']' after array element")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
			p.skipSpace()
		case ']':
			p.i++
			return n, nil
		default:
			return nil, p.errorf("invalid character %s after array element", p.quoteChar())
		}
	}
}

// str reads a string token. The scan validates escapes and control
// characters; encoding/json then decodes the token, so escapes, surrogate
// pairs and invalid UTF-8 come out exactly as the standard library (and
// the SDK) would have them.
func (p *parser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	simple := true
	for {
		if p.i >= len(p.data) {
			return "", p.eof("closing '\"' of string")
		}
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			raw := p.data[start:p.i]
			if simple && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", &SyntaxError{Pos: p.pos(), Msg: "invalid string: " + err.Error()}
			}
			return s, nil
		case c < 0x20:
			return "", p.errorf("invalid control character %q in string", c)
		case c == '\\':
			simple = false
			p.i++
			if p.i >= len(p.data) {
				return "", p.eof("escape sequence")
			}
			switch p.data[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				p.i++
				for k := 0; k < 4; k++ {
					if p.i >= len(p.data) {
						return "", p.eof("\\u escape")
					}
					if !isHex(p.data[p.i]) {
						return "", p.errorf("invalid character %s in \\u hexadecimal character escape", p.quoteChar())
					}
					p.i++
				}
			default:
				return "", p.errorf("invalid character %s in string escape code", p.quoteChar())
			}
		default:
			p.i++
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (p *parser) digits() int {
	n := 0
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

func (p *parser) number(pos Position) (*Node, error) {
	start := p.i
	if p.data[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.data) {
		return nil, p.eof("digits of number")
	}
	switch {
	case p.data[p.i] == '0':
		p.i++
	case p.data[p.i] >= '1' && p.data[p.i] <= '9':
		p.digits()
	default:
		return nil, p.errorf("invalid character %s in numeric literal", p.quoteChar())
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			if p.i >= len(p.data) {
				return nil, p.eof("digits after decimal point")
			}
			return nil, p.errorf("invalid character %s after decimal point in numeric literal", p.quoteChar())
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			if p.i >= len(p.data) {
				return nil, p.eof("digits of exponent")
			}
			return nil, p.errorf("invalid character %s in exponent of numeric literal", p.quoteChar())
		}
	}
	return &Node{Kind: Number, Pos: pos, Text: string(p.data[start:p.i])}, nil
}
