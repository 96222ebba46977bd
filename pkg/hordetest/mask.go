package hordetest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// The X-Fields header is flask-restx's field mask: a client asks for some fields of the answer,
// "{id,kudos}" or "id,worker{name,models},*" (outer braces optional, "*" keeps the rest). The
// server applies it to every answer it marshals with a model; a mask it cannot read is a 400
// "Mask parse error: …", and a nested mask on a field that is not an object a 400 "Mask error:
// …" (flask_restx/mask.py, api.py).

// maskErr is a mask problem, in flask-restx's words.
type maskErr string

func (e maskErr) Error() string { return string(e) }

// fieldMask is a parsed mask: each field, with its nested mask (nil for a plain field).
type fieldMask struct {
	fields []string
	nested map[string]*fieldMask
}

var maskTokens = regexp.MustCompile(`\{|\}|,|[\w:\-*]+`)

// parseMask reads a mask as flask-restx's Mask.parse does.
func parseMask(s string) (*fieldMask, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\n", ""))
	if s == "" {
		return nil, nil
	}
	if s[0] == '{' {
		if s[len(s)-1] != '}' {
			return nil, maskErr("Missing closing bracket")
		}
		s = s[1 : len(s)-1]
	}
	root := &fieldMask{nested: map[string]*fieldMask{}}
	cur, previous := root, ""
	var stack []*fieldMask
	for _, tok := range maskTokens.FindAllString(s, -1) {
		switch tok {
		case "{":
			if !cur.has(previous) {
				return nil, maskErr("Unexpected opening bracket")
			}
			n := &fieldMask{nested: map[string]*fieldMask{}}
			cur.nested[previous] = n
			stack = append(stack, cur)
			cur = n
		case "}":
			if len(stack) == 0 {
				return nil, maskErr("Unexpected closing bracket")
			}
			cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
		case ",":
			if previous == "," || previous == "{" || previous == "" {
				return nil, maskErr("Unexpected comma")
			}
		default:
			if !cur.has(tok) {
				cur.fields = append(cur.fields, tok)
			}
		}
		previous = tok
	}
	if len(stack) > 0 {
		return nil, maskErr("Missing closing bracket")
	}
	return root, nil
}

func (m *fieldMask) has(field string) bool {
	for _, f := range m.fields {
		if f == field {
			return true
		}
	}
	return false
}

// apply filters an answer: a list element by element, an object to the mask's fields (a field
// the answer lacks is null), with "*" keeping the others.
func (m *fieldMask) apply(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = m.apply(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := map[string]any{}
		for _, f := range m.fields {
			if f == "*" {
				continue
			}
			val, ok := x[f]
			if n := m.nested[f]; n != nil && ok && val != nil {
				var err error
				if val, err = n.apply(val); err != nil {
					return nil, err
				}
			}
			out[f] = val
		}
		if m.has("*") {
			for k, val := range x {
				if _, done := out[k]; !done {
					out[k] = val
				}
			}
		}
		return out, nil
	}
	return nil, maskErr("Mask is inconsistent with model")
}

// masked applies the request's X-Fields mask to a successful answer; it returns the answer
// unchanged when there is no mask, and an error answer when the mask cannot be read or applied.
func masked(header string, status int, body any) (int, any) {
	if header == "" || status < 200 || status > 299 || body == nil {
		return status, body
	}
	m, err := parseMask(header)
	if err != nil {
		return 400, map[string]any{"message": "Mask parse error: " + err.Error()}
	}
	if m == nil {
		return status, body
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return status, body
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return status, body
	}
	out, err := m.apply(v)
	if err != nil {
		return 400, map[string]any{"message": "Mask error: " + err.Error()}
	}
	return status, out
}
