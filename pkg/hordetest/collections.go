package hordetest

import (
	"net/http"
	"strconv"

	"github.com/horde-go/horde/gen"
)

// collection is a named set of styles of one kind; a request naming it uses one of its
// styles at random.
type collection struct {
	id, kind   string
	owner      *user
	name, info string
	public     bool
	styles     []*style
	useCount   int
	seq        int64
}

func (s *Server) collectionDetailsLocked(c *collection) map[string]any {
	d := gen.ResponseModelCollection{ID: ptr(c.id), Name: ptr(c.name), Public: ptr(c.public), UseCount: ptr(c.useCount)}
	if c.kind != "" {
		d.Type = ptr(gen.ModelType(c.kind))
	}
	for _, st := range c.styles {
		d.Styles = append(d.Styles, gen.ResponseModelStylesShort{ID: ptr(st.id), Name: ptr(st.uniqueName())})
	}
	return withEmpty(d, "styles")
}

// resolveCollectionStylesLocked reproduces the style loop of the collection POST and PATCH:
// ids are looked up first (a collection id resolves to the collection, which cannot be stored
// as a style), then names; only styles found by name set and check the collection's kind.
func (s *Server) resolveCollectionStylesLocked(names []string, mismatchRC string) ([]*style, string, bool, *apiError) {
	var out []*style
	kind := ""
	crash := false
	for _, n := range names {
		st, col := s.styleByUUIDLocked(n)
		if col != nil {
			crash = true
			continue
		}
		if st == nil {
			st, _ = s.styleByNameLocked(n, "style")
			if st == nil {
				return nil, "", false, herr(http.StatusBadRequest, "BadRequest", "A style with name '"+n+"' cannot be found")
			}
			if kind == "" {
				kind = st.kind
			} else if kind != st.kind {
				return nil, "", false, herr(http.StatusBadRequest, mismatchRC, "Cannot mix image and text styles in the same collection")
			}
		}
		out = append(out, st)
	}
	return out, kind, crash, nil
}

type collectionInput struct {
	Name   *string  `json:"name"`
	Info   *string  `json:"info"`
	Public *bool    `json:"public"`
	Styles []string `json:"styles"`
}

func validateCollectionSchema(in *collectionInput) *apiError {
	if e := strLen("name", in.Name, 1, 100); e != nil {
		return e
	}
	if e := strLen("info", in.Info, 1, 1000); e != nil {
		return e
	}
	for i, st := range in.Styles {
		if e := strLen("styles."+strconv.Itoa(i), &st, 1, 0); e != nil {
			return e
		}
	}
	return nil
}

// collectionBody reads the body of a collection POST or PATCH as the server's parser does:
// decoded, checked against the schema, then the key's presence.
func collectionBody(r *http.Request) (collectionInput, *apiError) {
	var in collectionInput
	if _, e := decodeBody(r, &in); e != nil {
		return in, e
	}
	if e := validateCollectionSchema(&in); e != nil {
		return in, e
	}
	if r.Header.Get("apikey") == "" {
		return in, missingAPIKey(helpRegisteredKey)
	}
	return in, nil
}

// handleCollectionPost reproduces Collection.post. Its quirk: the collection's kind comes
// only from styles given by name, so a collection of style ids has no kind and the database
// refuses it (500); a second collection of the same name for the user is refused the same way.
func (s *Server) handleCollectionPost(r *http.Request) (int, any) {
	in, e := collectionBody(r)
	if e != nil {
		return 0, e
	}
	if in.Name == nil {
		return 0, validationErr("name", "Missing required parameter in the JSON body")
	}
	if in.Styles == nil {
		return 0, validationErr("styles", "Missing required parameter in the JSON body")
	}
	if len(in.Styles) < 1 {
		return 0, herr(http.StatusBadRequest, "BadRequest", "A collection has to include at least 1 style")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return 0, ae
	}
	if u.deleted {
		return 0, herr(http.StatusForbidden, "DeletedUser", "This account has been scheduled for deletion and is disabled.")
	}
	if u.id == 0 {
		return 0, herr(http.StatusForbidden, "StylesAnonForbidden", "Anonymous users cannot create collections")
	}
	styles, kind, crash, e := s.resolveCollectionStylesLocked(in.Styles, "BadRequest")
	if e != nil {
		return 0, e
	}
	if crash || kind == "" {
		return 0, internalError()
	}
	for _, c := range s.collections {
		if c.owner == u && c.name == *in.Name {
			return 0, internalError()
		}
	}
	s.styleSeq++
	c := &collection{id: s.newUUIDLocked(), kind: kind, owner: u, name: *in.Name, info: deref(in.Info, ""),
		public: deref(in.Public, true), styles: dedupStyles(styles), seq: s.styleSeq}
	s.collections[c.id] = c
	return http.StatusOK, styleModify(c.id, nil)
}

// dedupStyles keeps the first occurrence of each style (the mapping table's key).
func dedupStyles(xs []*style) []*style {
	seen := map[*style]bool{}
	var out []*style
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// handleCollectionPatch reproduces SingleCollection.patch. Its quirk: the collection's kind is
// compared with that of the styles given by name, so a PATCH without styles named by name
// answers 400 StyleMismatch.
func (s *Server) handleCollectionPatch(r *http.Request) (int, any) {
	in, e := collectionBody(r)
	if e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	styles, kind, crash, e := s.resolveCollectionStylesLocked(in.Styles, "StyleMismatch")
	if e != nil {
		return 0, e
	}
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return 0, ae
	}
	id := r.PathValue("collection_id")
	c := s.collectionByUUIDLocked(id)
	if c == nil {
		return 0, notFound("Collection", id)
	}
	if c.owner != u {
		return 0, herr(http.StatusForbidden, "Forbidden", "This Collection is not owned by user "+u.alias())
	}
	if c.kind != kind {
		return 0, herr(http.StatusBadRequest, "StyleMismatch", "Cannot mix image and text styles in the same collection")
	}
	if crash {
		return 0, internalError()
	}
	modified := false
	if in.Name != nil && *in.Name != "" {
		c.name = *in.Name
		modified = true
	}
	if in.Info != nil {
		c.info = *in.Info
		modified = true
	}
	if in.Public != nil {
		c.public = *in.Public
		modified = true
	}
	if len(styles) > 0 {
		c.styles = dedupStyles(styles)
		modified = true
	}
	if !modified {
		return http.StatusOK, gen.StyleModify{ID: ptr(c.id), Message: ptr("OK")}
	}
	return http.StatusOK, styleModify(c.id, nil)
}

func (s *Server) collectionByUUIDLocked(id string) *collection {
	cid, ok := canonicalUUID(id)
	if !ok {
		return nil
	}
	return s.collections[cid]
}

func (s *Server) handleCollectionDelete(r *http.Request) (int, any) {
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpModKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "")
	if ae != nil {
		return 0, ae
	}
	id := r.PathValue("collection_id")
	c := s.collectionByUUIDLocked(id)
	if c == nil {
		return 0, notFound("Collection", id)
	}
	if c.owner != u && !u.Moderator {
		return 0, herr(http.StatusForbidden, "Forbidden", "This Collection is not owned by user "+u.alias())
	}
	delete(s.collections, c.id)
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

func (s *Server) handleCollectionGet(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("collection_id")
	c := s.collectionByUUIDLocked(id)
	if c == nil {
		return 0, notFound("Collection", id)
	}
	return http.StatusOK, s.collectionDetailsLocked(c)
}

// handleCollectionByName looks the name up as the server does, styles first: a style of that
// name is shown with the fields it shares with a collection.
func (s *Server) handleCollectionByName(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.PathValue("collection_name")
	st, c := s.styleByNameLocked(name, "")
	switch {
	case c != nil:
		return http.StatusOK, s.collectionDetailsLocked(c)
	case st != nil:
		return http.StatusOK, map[string]any{"id": st.id, "name": st.name, "use_count": st.useCount, "public": st.public}
	}
	return 0, notFound("Collection", name)
}

func (s *Server) handleCollections(r *http.Request) (int, any) {
	page, e := listPage(r, helpPage)
	if e != nil {
		return 0, e
	}
	sortBy, e := sortParam(r)
	if e != nil {
		return 0, e
	}
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = "all"
	}
	if typ != "all" && typ != kindImage && typ != kindText {
		return 0, herr(http.StatusBadRequest, "BadRequest", "'type' needs to be one of ['all', 'image', 'text']")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*collection
	for _, c := range s.collections {
		if c.public && (typ == "all" || c.kind == typ) {
			list = append(list, c)
		}
	}
	return sortedPage(list, sortBy == "popular", func(c *collection) (int, int64) { return c.useCount, c.seq }, page, s.collectionDetailsLocked)
}
