package hordetest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/horde-go/horde/gen"
)

var errInternal = &apiError{status: http.StatusInternalServerError, msg: "Internal Server Error"}

// requestStyleLocked finds the style (or collection) a generation request names, as
// GenerateTemplate.apply_style does: by id (styles, then collections), then by name.
func (s *Server) requestStyleLocked(ref, kind string) (*style, *apiError) {
	st, col := s.styleByUUIDLocked(ref)
	if st == nil && col == nil {
		st, col = s.styleByNameLocked(ref, "")
	}
	if st == nil && col == nil {
		return nil, notFound("Style", ref)
	}
	have := ""
	if st != nil {
		have = st.kind
	} else {
		have = col.kind
	}
	if have != kind {
		if kind == kindImage {
			return nil, herr(http.StatusBadRequest, "BadRequest", "Text styles cannot be used on image requests")
		}
		return nil, herr(http.StatusBadRequest, "BadRequest", "Image styles cannot be used on image requests")
	}
	if st != nil {
		return st, nil
	}
	if len(col.styles) == 0 {
		return nil, errInternal // the server indexes the first of no styles
	}
	st = col.styles[s.rng.IntN(len(col.styles))]
	// A collection counts its own use for text; for images the server counts the chosen
	// style twice instead.
	if kind == kindText {
		col.useCount++
	} else {
		st.useCount++
	}
	return st, nil
}

// useStyleLocked counts a use of the style and rewards its owner: 2 kudos ("styled") and a
// style record of the kind. The server does this before it knows the requester (it compares
// the owner with a user it has not looked up yet), so the owner is rewarded for every request
// that gets this far, their own included, and even when a later check refuses the request.
func (s *Server) useStyleLocked(st *style) {
	st.useCount++
	o := st.owner
	o.Kudos += 2
	o.styled += 2
	o.styleUse[st.kind]++
}

// styleParams copies the style's params, sets n to the request's, and merges the extra keys.
func styleParams(st *style, n int, extra map[string]any) []byte {
	m := map[string]json.RawMessage{}
	for k, v := range st.params {
		m[k] = v
	}
	m["n"], _ = json.Marshal(n)
	for k, v := range extra {
		if _, ok := m[k]; !ok {
			m[k], _ = json.Marshal(v)
		}
	}
	raw, _ := json.Marshal(m)
	return raw
}

// applyImageStyleLocked rewrites an image request from the style it names: the style's
// models, its params (with the request's n, and its width and height when the style sets
// none) and its prompt template with {p} and {np} replaced by the request's positive and
// negative prompt. It returns the style's models.
func (s *Server) applyImageStyleLocked(in *gen.GenerationInputStable) ([]string, *apiError) {
	st, e := s.requestStyleLocked(*in.Style, kindImage)
	if e != nil {
		return nil, e
	}
	pos, neg, _ := strings.Cut(in.Prompt, "###")
	if !strings.Contains(st.prompt, "###") && neg != "" && !strings.Contains(neg, "###") {
		neg = "###" + neg
	}
	in.Prompt = strings.NewReplacer("{p}", pos, "{np}", neg).Replace(st.prompt)
	user := gen.ModelGenerationInputStable{}
	if in.Params != nil {
		user = *in.Params
	}
	extra := map[string]any{}
	if user.Width != nil {
		extra["width"] = *user.Width
	}
	if user.Height != nil {
		extra["height"] = *user.Height
	}
	var p gen.ModelGenerationInputStable
	_ = json.Unmarshal(styleParams(st, deref(user.N, 1), extra), &p)
	in.Params = &p
	s.useStyleLocked(st)
	return append([]string{}, st.models...), nil
}

// applyTextStyleLocked rewrites a text request from the style it names: the style's models,
// its params (with the request's n) and its prompt formatted with {p} as the request's prompt.
func (s *Server) applyTextStyleLocked(in *gen.GenerationInputKobold) *apiError {
	st, e := s.requestStyleLocked(*in.Style, kindText)
	if e != nil {
		return e
	}
	user := "None" // Python formats an absent prompt as None
	if in.Prompt != nil {
		user = *in.Prompt
	}
	prompt, ok := pyFormatP(st.prompt, user)
	if !ok {
		return errInternal
	}
	n := 1
	if in.Params != nil {
		n = deref(in.Params.N, 1)
	}
	var p gen.ModelGenerationInputKobold
	_ = json.Unmarshal(styleParams(st, n, nil), &p)
	in.Prompt, in.Params, in.Models = &prompt, &p, append([]string{}, st.models...)
	s.useStyleLocked(st)
	return nil
}

// pyFormatP formats tmpl as Python's str.format_map with a mapping where p is the prompt and
// every other name is empty. It reports false where Python raises (an unmatched brace, an
// empty or numeric field); fields with a conversion, format spec, attribute or index are
// reported the same way.
func pyFormatP(tmpl, p string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		switch c := tmpl[i]; {
		case c == '{' && strings.HasPrefix(tmpl[i:], "{{"):
			b.WriteByte('{')
			i += 2
		case c == '{':
			end := strings.IndexByte(tmpl[i+1:], '}')
			if end < 0 {
				return "", false
			}
			field := tmpl[i+1 : i+1+end]
			if field == "" || strings.ContainsAny(field, "{!:.[") || strings.Trim(field, "0123456789") == "" {
				return "", false
			}
			if field == "p" {
				b.WriteString(p)
			}
			i += end + 2
		case c == '}' && strings.HasPrefix(tmpl[i:], "}}"):
			b.WriteByte('}')
			i += 2
		case c == '}':
			return "", false
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), true
}
