package hordetest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/horde-go/horde/gen"
)

// style is an image or text style: a prompt template, params and models that a generation
// request naming it takes over.
type style struct {
	id, kind   string
	owner      *user
	name, info string
	prompt     string
	public     bool
	nsfw       bool
	params     map[string]json.RawMessage // stored as sent, like the server's JSON column
	models     []string
	tags       []string
	examples   []*styleExample
	useCount   int
	seq        int64
}

type styleExample struct {
	id      string
	url     string
	primary bool
	style   *style
}

// uniqueName is the name under which collections and users list a style.
func (st *style) uniqueName() string { return st.owner.alias() + "::style::" + st.name }

func pyQuote(s string) string { return "'" + s + "'" }

// canonicalUUID parses an id as Python's uuid.UUID does (hyphens, braces and a urn:uuid:
// prefix are accepted) and returns its canonical form.
func canonicalUUID(s string) (string, bool) {
	h := strings.ReplaceAll(strings.ReplaceAll(s, "urn:", ""), "uuid:", "")
	h = strings.ReplaceAll(strings.Trim(h, "{}"), "-", "")
	if len(h) != 32 {
		return "", false
	}
	for _, c := range h {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return "", false
		}
	}
	h = strings.ToLower(h)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// styleByUUIDLocked finds a style by id and, failing that, a collection, as the server's
// get_style_by_uuid does for the style endpoints.
func (s *Server) styleByUUIDLocked(id string) (*style, *collection) {
	id, ok := canonicalUUID(id)
	if !ok {
		return nil, nil
	}
	if st := s.styles[id]; st != nil {
		return st, nil
	}
	return nil, s.collections[id]
}

// userByUsernameLocked resolves "alias#id" by the number after the last '#'.
func (s *Server) userByUsernameLocked(name string) *user {
	id, err := strconv.Atoi(name[strings.LastIndexByte(name, '#')+1:])
	if err != nil {
		return nil
	}
	return s.users[id]
}

// styleByNameLocked reproduces get_style_by_name: "[style|collection::][alias::]name" with the
// optional prefixes filtering by kind and owner; an owner that does not resolve filters
// nothing. kindFilter is "style", "collection" or "" (both, styles first).
func (s *Server) styleByNameLocked(name, kindFilter string) (*style, *collection) {
	parts := strings.Split(name, "::")
	var owner *user
	switch len(parts) {
	case 3:
		name = parts[2]
		if kindFilter == "" && (parts[0] == "collection" || parts[0] == "style") {
			kindFilter = parts[0]
		}
		owner = s.userByUsernameLocked(parts[1])
	case 2:
		name = parts[1]
		switch parts[0] {
		case "collection", "style":
			if kindFilter == "" {
				kindFilter = parts[0]
			}
		default:
			owner = s.userByUsernameLocked(parts[0])
		}
	}
	if kindFilter != "collection" {
		var best *style
		for _, st := range s.styles {
			if st.name == name && (owner == nil || st.owner == owner) && (best == nil || st.seq < best.seq) {
				best = st
			}
		}
		if best != nil {
			return best, nil
		}
	}
	if kindFilter != "style" {
		var best *collection
		for _, c := range s.collections {
			if c.name == name && (owner == nil || c.owner == owner) && (best == nil || c.seq < best.seq) {
				best = c
			}
		}
		if best != nil {
			return nil, best
		}
	}
	return nil, nil
}

func notFound(thing, id string) *apiError {
	t := strings.ToUpper(thing[:1]) + strings.ToLower(thing[1:])
	return herr(http.StatusNotFound, t+"NotFound", t+" with ID '"+id+"' not found.")
}

// styleInput is the body of a style POST or PATCH, for both kinds.
type styleInput struct {
	Name      *string                    `json:"name"`
	Info      *string                    `json:"info"`
	Prompt    *string                    `json:"prompt"`
	Params    map[string]json.RawMessage `json:"params"`
	Public    *bool                      `json:"public"`
	NSFW      *bool                      `json:"nsfw"`
	Tags      []string                   `json:"tags"`
	Models    []string                   `json:"models"`
	Sharedkey *string                    `json:"sharedkey"`
}

func styleModify(id string, warnings []gen.RequestSingleWarning) map[string]any {
	return withEmpty(gen.StyleModify{ID: ptr(id), Message: ptr("OK"), Warnings: warnings}, "warnings")
}

// styleBody reads the body of a style POST (creating) or PATCH as the server's parser does:
// decoded, checked against the schema, then the key's presence.
func styleBody(r *http.Request, kind string, creating bool) (styleInput, *apiError) {
	var in styleInput
	raw, e := decodeBody(r, &in)
	if e != nil {
		return in, e
	}
	if e := validateStyleSchema(kind, &in, raw, creating); e != nil {
		return in, e
	}
	if r.Header.Get("apikey") == "" {
		return in, missingAPIKey(helpRegisteredKey)
	}
	return in, nil
}

func (s *Server) handleImageStylePost(r *http.Request) (int, any) {
	return s.handleStylePost(r, kindImage)
}
func (s *Server) handleTextStylePost(r *http.Request) (int, any) {
	return s.handleStylePost(r, kindText)
}

func (s *Server) handleStylePost(r *http.Request, kind string) (int, any) {
	in, e := styleBody(r, kind, true)
	if e != nil {
		return 0, e
	}
	bad := func(msg string) (int, any) { return 0, herr(http.StatusBadRequest, "BadRequest", msg) }
	if len(in.Models) < 1 {
		return bad("A style has to specify at least one model.")
	}
	if len(in.Models) > 5 {
		return bad("A style can only use a maximum of 5 models.")
	}
	if len(in.Tags) > 10 {
		return bad("A style can be tagged a maximum of 10 times.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return 0, ae
	}
	if !u.Customizer && !u.Trusted {
		return 0, herr(http.StatusForbidden, "StylesRequiresCustomizer", "Only customizers and trusted users can create new styles. You can request the customizer role in our channels.")
	}
	if u.id == 0 {
		return 0, herr(http.StatusForbidden, "StylesAnonForbidden", "Anonymous users cannot create styles")
	}
	if in.Sharedkey != nil && *in.Sharedkey != "" {
		return bad("This shared key does not exist")
	}
	if u.deleted {
		return 0, herr(http.StatusForbidden, "DeletedUser", "This account has been scheduled for deletion and is disabled.")
	}
	// The server looks for "<alias>::style::<name>", which its name parser reads as a name
	// with an owner that does not resolve ("style"): any style or collection of that name counts.
	if st, c := s.styleByNameLocked(u.alias()+"::style::"+*in.Name, ""); st != nil || c != nil {
		return bad("Style with name '" + *in.Name + "' already exists for user '" + u.alias() + "'. Please use PATCH to modify an existing style.")
	}
	prompt := deref(in.Prompt, "{p}{np}")
	params := in.Params
	if params == nil {
		params = map[string]json.RawMessage{}
	}
	warnings, e := s.styleParamRules(kind, prompt, in.Models, params)
	if e != nil {
		return 0, e
	}
	s.styleSeq++
	st := &style{id: s.newUUIDLocked(), kind: kind, owner: u, name: *in.Name, info: deref(in.Info, ""),
		prompt: prompt, public: deref(in.Public, true), nsfw: deref(in.NSFW, false), params: params,
		models: cleanList(in.Models, 5), tags: cleanList(in.Tags, 10), seq: s.styleSeq}
	s.styles[st.id] = st
	return http.StatusOK, styleModify(st.id, warnings)
}

func (s *Server) handleImageStylePatch(r *http.Request) (int, any) {
	return s.handleStylePatch(r, kindImage)
}
func (s *Server) handleTextStylePatch(r *http.Request) (int, any) {
	return s.handleStylePatch(r, kindText)
}

// handleStylePatch reproduces SingleStyleTemplate.patch, which parses the body with the
// creation parser: name is required, and an absent prompt, public or nsfw is reset to its
// default ("{p}{np}", true, false); absent tags are cleared. The text variant fails with 500
// after its checks (it reads an attribute only the image variant sets).
func (s *Server) handleStylePatch(r *http.Request, kind string) (int, any) {
	in, e := styleBody(r, kind, false)
	if e != nil {
		return 0, e
	}
	if in.Name == nil {
		return 0, validationErr("name", "The name of the style. Missing required parameter in the JSON body")
	}
	bad := func(msg string) (int, any) { return 0, herr(http.StatusBadRequest, "BadRequest", msg) }
	if len(in.Tags) > 10 {
		return bad("A style can be tagged a maximum of 10 times.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return 0, ae
	}
	id := r.PathValue("style_id")
	st, col := s.styleByUUIDLocked(id)
	if st == nil && col == nil {
		return 0, notFound("Style", id)
	}
	ownerID := 0
	if st != nil {
		ownerID = st.owner.id
	} else {
		ownerID = col.owner.id
	}
	if ownerID != u.id {
		return 0, herr(http.StatusForbidden, "Forbidden", "This Style is not owned by user "+u.alias())
	}
	if col != nil {
		return 0, internalError() // a collection has no models or params to patch
	}
	models := st.models
	if len(in.Models) > 0 {
		if len(in.Models) > 5 {
			return bad("A style can only use a maximum of 5 models.")
		}
		models = in.Models
	}
	if kind == kindImage && in.Sharedkey != nil && *in.Sharedkey != "" {
		return bad("This shared key does not exist")
	}
	if other, c := s.styleByNameLocked(u.alias()+"::style::"+*in.Name, ""); (other != nil || c != nil) && st.name != *in.Name {
		return bad("Style with name '" + *in.Name + "' already exists for user '" + u.alias() + "'. Please use a different name if you want to rename.")
	}
	prompt := deref(in.Prompt, "{p}{np}")
	params := st.params
	if in.Params != nil {
		params = in.Params
	}
	// The rules follow the endpoint's kind, not the style's: PATCH does not check the type.
	warnings, e := s.styleParamRules(kind, prompt, models, params)
	if e != nil {
		return 0, e
	}
	if kind == kindText {
		return 0, internalError()
	}
	st.name = *in.Name
	if in.Info != nil {
		st.info = *in.Info
	}
	st.public = deref(in.Public, true)
	st.nsfw = deref(in.NSFW, false)
	st.prompt = prompt
	st.params = params
	st.models = cleanList(models, 5)
	st.tags = cleanList(in.Tags, 10)
	return http.StatusOK, styleModify(st.id, warnings)
}

// helpModKey is the help text of the server's apikey parser used by DELETE operations.
const helpModKey = "A mod API key."

func (s *Server) handleStyleDelete(r *http.Request) (int, any) {
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpModKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return 0, ae
	}
	if u.id == 0 {
		return 0, herr(http.StatusForbidden, "StylesAnonForbidden", "Anonymous users cannot delete styles")
	}
	id := r.PathValue("style_id")
	st, col := s.styleByUUIDLocked(id)
	if st == nil && col == nil {
		return 0, notFound("Style", id)
	}
	if col != nil { // the server's lookup falls back to collections, and deletes them too
		if col.owner != u && !u.Moderator {
			return 0, herr(http.StatusForbidden, "Forbidden", "This Style is not owned by user "+u.alias())
		}
		delete(s.collections, col.id)
		return http.StatusOK, gen.SimpleResponse{Message: "OK"}
	}
	if st.owner != u && !u.Moderator {
		return 0, herr(http.StatusForbidden, "Forbidden", "This Style is not owned by user "+u.alias())
	}
	s.deleteStyleLocked(st)
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

// deleteStyleLocked removes a style with its examples and its place in collections.
func (s *Server) deleteStyleLocked(st *style) {
	delete(s.styles, st.id)
	for _, ex := range st.examples {
		delete(s.examples, ex.id)
	}
	for _, c := range s.collections {
		kept := c.styles[:0]
		for _, x := range c.styles {
			if x != st {
				kept = append(kept, x)
			}
		}
		c.styles = kept
	}
}

// styleDetailsLocked renders a style as the kind's response model (StyleStable or StyleKobold).
func (s *Server) styleDetailsLocked(st *style) map[string]any {
	raw, _ := json.Marshal(st.params)
	if st.kind == kindImage {
		var p gen.ModelStyleInputParamsStable
		_ = json.Unmarshal(raw, &p)
		ex := []gen.StyleExample{}
		for _, e := range st.examples {
			ex = append(ex, gen.StyleExample{ID: ptr(e.id), URL: ptr(e.url), Primary: ptr(e.primary)})
		}
		d := gen.StyleStable{ID: ptr(st.id), Name: st.name, Info: ptr(st.info), Params: &p, Prompt: ptr(st.prompt),
			Tags: st.tags, Models: st.models, Examples: ex, Creator: ptr(st.owner.alias()), UseCount: ptr(st.useCount),
			Public: ptr(st.public), NSFW: ptr(st.nsfw)}
		m := withEmpty(d, "tags", "models", "examples")
		dropEmptyParams(m)
		return m
	}
	var p gen.ModelStyleInputParamsKobold
	_ = json.Unmarshal(raw, &p)
	d := gen.StyleKobold{ID: ptr(st.id), Name: st.name, Info: ptr(st.info), Params: &p, Prompt: ptr(st.prompt),
		Tags: st.tags, Models: st.models, Creator: ptr(st.owner.alias()), UseCount: ptr(st.useCount),
		Public: ptr(st.public), NSFW: ptr(st.nsfw)}
	m := withEmpty(d, "tags", "models")
	dropEmptyParams(m)
	return m
}

// dropEmptyParams removes params without a known field, as the server's marshalling does.
func dropEmptyParams(m map[string]any) {
	if p, ok := m["params"].(map[string]any); ok && len(p) == 0 {
		delete(m, "params")
	}
}

func (s *Server) handleImageStyleGet(r *http.Request) (int, any) {
	return s.handleStyleGet(r, kindImage)
}
func (s *Server) handleTextStyleGet(r *http.Request) (int, any) { return s.handleStyleGet(r, kindText) }

func (s *Server) handleStyleGet(r *http.Request, kind string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("style_id")
	st, col := s.styleByUUIDLocked(id)
	if st == nil && col == nil {
		return 0, notFound(kind+" Style", id)
	}
	return s.styleOfKindLocked(st, col, kind)
}

func (s *Server) handleImageStyleByName(r *http.Request) (int, any) {
	return s.handleStyleByName(r, kindImage)
}
func (s *Server) handleTextStyleByName(r *http.Request) (int, any) {
	return s.handleStyleByName(r, kindText)
}

func (s *Server) handleStyleByName(r *http.Request, kind string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.PathValue("style_name")
	st, _ := s.styleByNameLocked(name, "style")
	if st == nil {
		return 0, notFound("Style", name)
	}
	return s.styleOfKindLocked(st, nil, kind)
}

// styleOfKindLocked answers a single style (or a collection found in its place, shown with
// the fields the two share) when it is of the endpoint's kind.
func (s *Server) styleOfKindLocked(st *style, col *collection, kind string) (int, any) {
	have := ""
	if st != nil {
		have = st.kind
	} else {
		have = col.kind
	}
	if have != kind {
		return 0, herr(http.StatusBadRequest, "BadRequest", "Style was found but was of the wrong type: "+have+" != "+kind)
	}
	if st == nil {
		return http.StatusOK, map[string]any{"id": col.id, "name": col.name, "creator": col.owner.alias(),
			"use_count": col.useCount, "public": col.public}
	}
	return http.StatusOK, s.styleDetailsLocked(st)
}

// listPage reads the page query parameter as the server's int parser does.
func listPage(r *http.Request, help string) (int, *apiError) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validationErr("page", help+" invalid literal for int() with base 10: "+pyQuote(v))
	}
	return n, nil
}

const helpPage = "Which page of results to return. Each page has 25 styles."

// pageWindow applies the server's offset(page-1).limit(25): pages advance one row at a time
// and page 0 (a negative offset) is a database error.
func pageWindow(n, page int) (int, int, bool) {
	off := page - 1
	if off < 0 {
		return 0, 0, false
	}
	return min(off, n), min(off+25, n), true
}

func sortParam(r *http.Request) (string, *apiError) {
	sortBy := r.URL.Query().Get("sort")
	if sortBy == "" {
		sortBy = "popular"
	}
	if sortBy != "popular" && sortBy != "age" {
		return "", herr(http.StatusBadRequest, "BadRequest", "'model_state' needs to be one of ['popular', 'age']")
	}
	return sortBy, nil
}

func (s *Server) handleImageStyles(r *http.Request) (int, any) {
	return s.handleStyleList(r, kindImage)
}
func (s *Server) handleTextStyles(r *http.Request) (int, any) { return s.handleStyleList(r, kindText) }

func (s *Server) handleStyleList(r *http.Request, kind string) (int, any) {
	page, e := listPage(r, helpPage)
	if e != nil {
		return 0, e
	}
	sortBy, e := sortParam(r)
	if e != nil {
		return 0, e
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*style
	for _, st := range s.styles {
		if st.kind != kind || !st.public || (q.Has("tag") && !contains(st.tags, q.Get("tag"))) ||
			(q.Has("model") && !contains(st.models, q.Get("model"))) {
			continue
		}
		list = append(list, st)
	}
	return sortedPage(list, sortBy == "popular", func(st *style) (int, int64) { return st.useCount, st.seq }, page, s.styleDetailsLocked)
}

// sortedPage answers one page of a style or collection listing as the server does: sorted by use
// count when popular (else by age), paged by pageWindow (a bad page answers 500), each entry
// through details.
func sortedPage[T any](list []T, popular bool, key func(T) (uses int, seq int64), page int, details func(T) map[string]any) (int, any) {
	sort.SliceStable(list, func(i, j int) bool {
		ui, si := key(list[i])
		uj, sj := key(list[j])
		if popular && ui != uj {
			return ui > uj
		}
		return si < sj
	})
	lo, hi, ok := pageWindow(len(list), page)
	if !ok {
		return 0, internalError()
	}
	out := []map[string]any{}
	for _, e := range list[lo:hi] {
		out = append(out, details(e))
	}
	return http.StatusOK, out
}
