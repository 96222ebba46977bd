package hordetest

import (
	"net/http"
	"strings"

	"github.com/horde-go/horde/gen"
)

type exampleInput struct {
	URL     *string `json:"url"`
	Primary *bool   `json:"primary"`
}

func exampleModify(id string) map[string]any {
	return withEmpty(gen.StyleModify{ID: ptr(id), Message: ptr("OK")}, "warnings")
}

// exampleStyleLocked resolves the style of an example operation and checks that the caller
// owns it or is a moderator. A collection id resolves to the collection (the server's lookup
// falls back to collections), which has no examples.
func (s *Server) exampleStyleLocked(r *http.Request, u *user) (*style, *collection, *apiError) {
	id := r.PathValue("style_id")
	st, col := s.styleByUUIDLocked(id)
	if st == nil && col == nil {
		return nil, nil, notFound("Style", id)
	}
	var ownerUser *user
	if st != nil {
		ownerUser = st.owner
	} else {
		ownerUser = col.owner
	}
	if ownerUser != u && !u.Moderator {
		return nil, nil, herr(http.StatusForbidden, "Forbidden", "This Style is not owned by user "+u.alias())
	}
	return st, col, nil
}

// handleStyleExamplePost reproduces ImageStyleExample.post. Its quirks: primary=true when the
// style has no primary example yet dereferences the missing previous primary (500), and
// primary=false on a style without one makes the new example primary.
func (s *Server) handleStyleExamplePost(r *http.Request) (int, any) {
	var in exampleInput
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	if !hasKey(raw, "url") {
		return 0, validationErr("url", "'url' is a required property")
	}
	if !hasKey(raw, "primary") {
		return 0, validationErr("primary", "'primary' is a required property")
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey("A User API key")
	}
	if !strings.HasPrefix(*in.URL, "https://") {
		return 0, herr(http.StatusBadRequest, "BadRequest", "The url has to start with 'https://'")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "")
	if ae != nil {
		return 0, ae
	}
	st, col, ae := s.exampleStyleLocked(r, u)
	if ae != nil {
		return 0, ae
	}
	kind := kindImage
	if st != nil {
		kind = st.kind
	} else {
		kind = col.kind
	}
	if kind == kindText {
		return 0, herr(http.StatusBadRequest, "BadRequest", "Cannot add image examples to text styles.")
	}
	if col != nil {
		return 0, internalError()
	}
	if len(st.examples) >= 4 {
		return 0, herr(http.StatusForbidden, "Forbidden", "You cannot have more than 4 examples for each style")
	}
	var prev *styleExample
	for _, ex := range st.examples {
		if ex.url == *in.URL {
			return 0, herr(http.StatusBadRequest, "BadRequest", "The url '"+*in.URL+"'is already used for this style.")
		}
		if ex.primary {
			prev = ex
		}
	}
	primary := *in.Primary
	if primary {
		if prev == nil {
			return 0, internalError()
		}
		prev.primary = false
	} else if prev == nil {
		primary = true
	}
	ex := &styleExample{id: s.newUUIDLocked(), url: *in.URL, primary: primary, style: st}
	st.examples = append(st.examples, ex)
	s.examples[ex.id] = ex
	return http.StatusOK, exampleModify(ex.id)
}

// exampleLocked finds an example by id, whichever style it belongs to (the server does not
// check that it belongs to the style in the path).
// existingExampleLocked finds what a PATCH or DELETE of an example names, in the server's
// order: the example, then the user, then the user's style of the path.
func (s *Server) existingExampleLocked(r *http.Request) (*styleExample, *style, *collection, *apiError) {
	ex, e := s.exampleLocked(r.PathValue("example_id"))
	if e != nil {
		return nil, nil, nil, e
	}
	u, e := s.authLocked(r, true, "")
	if e != nil {
		return nil, nil, nil, e
	}
	st, col, e := s.exampleStyleLocked(r, u)
	if e != nil {
		return nil, nil, nil, e
	}
	return ex, st, col, nil
}

func (s *Server) exampleLocked(id string) (*styleExample, *apiError) {
	if cid, ok := canonicalUUID(id); ok {
		if ex := s.examples[cid]; ex != nil {
			return ex, nil
		}
	}
	return nil, notFound("Style Example", id)
}

// handleStyleExamplePatch reproduces SingleImageStyleExample.patch: an absent url defaults to
// "popular" (so it fails the https check), an absent primary to true.
func (s *Server) handleStyleExamplePatch(r *http.Request) (int, any) {
	var in exampleInput
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey("A User API key")
	}
	url := deref(in.URL, "popular")
	if !strings.HasPrefix(url, "https://") {
		return 0, herr(http.StatusBadRequest, "BadRequest", "The url has to start with 'https://'")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, st, col, ae := s.existingExampleLocked(r)
	if ae != nil {
		return 0, ae
	}
	if col != nil {
		return 0, internalError()
	}
	var prev *styleExample
	for _, other := range st.examples {
		if other == ex {
			continue
		}
		if other.url == url {
			return 0, herr(http.StatusBadRequest, "BadRequest", "The url '"+url+"'is already used for this style.")
		}
		if other.primary {
			prev = other
		}
	}
	primary := deref(in.Primary, true)
	if !primary && prev == nil {
		return 0, herr(http.StatusBadRequest, "BadRequest", "You cannot remove the last primary example of this style")
	}
	if in.Primary != nil && primary && prev != nil {
		prev.primary = false
	}
	ex.primary = primary
	ex.url = url
	return http.StatusOK, exampleModify(ex.id)
}

// handleStyleExampleDelete reproduces SingleImageStyleExample.delete: deleting the primary
// example makes every other example of the style primary.
func (s *Server) handleStyleExampleDelete(r *http.Request) (int, any) {
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpModKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, st, col, ae := s.existingExampleLocked(r)
	if ae != nil {
		return 0, ae
	}
	if ex.primary {
		if col != nil {
			return 0, internalError()
		}
		for _, other := range st.examples {
			if other != ex {
				other.primary = true
			}
		}
	}
	owner := ex.style
	kept := owner.examples[:0]
	for _, other := range owner.examples {
		if other != ex {
			kept = append(kept, other)
		}
	}
	owner.examples = kept
	delete(s.examples, ex.id)
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}
