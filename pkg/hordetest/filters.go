package hordetest

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

// promptFilter is a moderator's regex. Filters of types 10 and 11 form the first group of
// the prompt check and type 20 the second: a prompt matching a regex of a group gains one
// suspicion per group, and image requests with a suspicion of 2 are rewritten or refused.
// Type 10's replacements rewrite such prompts.
type promptFilter struct {
	id          int
	regex       string
	ftype       int
	description *string
	replacement string
	user        *user
}

// filterTypes are the filter types the server compiles and checks prompts against.
var filterTypes = []int{10, 11, 20}

func (f *promptFilter) details() gen.FilterDetails {
	return gen.FilterDetails{ID: strconv.Itoa(f.id), Regex: f.regex, FilterType: f.ftype, Description: f.description,
		Replacement: ptr(f.replacement), User: f.user.alias()}
}

func (s *Server) filtersLocked(ftype int) []*promptFilter {
	var fs []*promptFilter
	for _, f := range s.ext.filters {
		if ftype == 0 || f.ftype == ftype {
			fs = append(fs, f)
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].id < fs[j].id })
	return fs
}

// compiledFilterLocked is the regex of a filter type: its filters' regexes joined with |,
// case-insensitive; nil when there are none or they do not compile (Go's RE2 syntax stands
// in for Python's regex module).
func (s *Server) compiledFilterLocked(ftype int) *regexp.Regexp {
	fs := s.filtersLocked(ftype)
	if len(fs) == 0 {
		return nil
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.regex
	}
	re, err := regexp.Compile("(?i)" + strings.Join(parts, "|"))
	if err != nil {
		return nil
	}
	return re
}

var (
	weightRe     = regexp.MustCompile(`\((.*?):\d+\.\d+\)`)
	punctRe      = regexp.MustCompile(`([^\w\s]|_)`)
	spacedRe     = regexp.MustCompile(`(\s(\w)){3,}\b`)
	whitespaceRe = regexp.MustCompile(`\s+`)
)

// normalizePrompt undoes the tricks used to dodge the filters: (word:1.2) weights, punctuation,
// s p a c e d letters and repeated whitespace.
func normalizePrompt(p string) string {
	p = weightRe.ReplaceAllString(p, "$1")
	p = punctRe.ReplaceAllString(p, " ")
	for _, m := range spacedRe.FindAllString(p, -1) {
		t := strings.TrimSpace(m)
		p = strings.ReplaceAll(p, t, whitespaceRe.ReplaceAllString(t, ""))
	}
	return whitespaceRe.ReplaceAllString(p, " ")
}

// promptSuspicionLocked checks the positive part of a prompt (before ###) against the
// filters, or only against type only when it is not 0.
func (s *Server) promptSuspicionLocked(prompt string, only int) (int, []string) {
	if i := strings.Index(prompt, "###"); i >= 0 {
		prompt = prompt[:i]
	}
	norm := normalizePrompt(prompt)
	suspicion, matches := 0, []string{}
	for _, group := range [][]int{{10, 11}, {20}} {
		for _, ft := range group {
			if only != 0 && ft != only {
				continue
			}
			if re := s.compiledFilterLocked(ft); re != nil {
				if loc := re.FindStringIndex(norm); loc != nil {
					suspicion++
					matches = append(matches, norm[loc[0]:loc[1]])
					break
				}
			}
		}
	}
	return suspicion, matches
}

// replacePromptLocked is the replacement filter: the positive prompt normalized and rewritten
// with type 10's replacements, the negative prompt extended; ok is false when nothing is
// left of the prompt.
func (s *Server) replacePromptLocked(prompt string) (string, bool) {
	neg := ""
	if i := strings.Index(prompt, "###"); i >= 0 {
		prompt, neg = prompt[:i], ", "+prompt[i+3:]
	}
	p := normalizePrompt(prompt)
	for _, f := range s.filtersLocked(10) {
		re, err := regexp.Compile("(?i)" + f.regex)
		if err != nil {
			continue
		}
		p = re.ReplaceAllLiteralString(p, f.replacement)
	}
	if strings.TrimSpace(p) == "" {
		return "", false
	}
	return p + "###child, infant, underage, immature, teenager, tween" + neg, true
}

func filterNotFound(id string) *apiError {
	return herr(http.StatusNotFound, "FilterNotFound", "Filter with ID '"+id+"' not found.")
}

// filterTypeQuery reads the optional filter_type query parameter (0 when absent), as the
// server's reqparse int() does.
func filterTypeQuery(r *http.Request) (int, *apiError) {
	v := r.URL.Query().Get("filter_type")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validationErr("filter_type", "The filter type. invalid literal for int() with base 10: "+pyRepr(v))
	}
	return n, nil
}

func (s *Server) handleFilters(r *http.Request) (int, any) {
	q := r.URL.Query()
	ftype, e := filterTypeQuery(r)
	if e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	contains := q.Get("contains")
	out := []gen.FilterDetails{}
	for _, f := range s.filtersLocked(ftype) {
		if contains != "" && !strings.Contains(f.regex, contains) && !strings.Contains(deref(f.description, ""), contains) {
			continue
		}
		out = append(out, f.details())
	}
	return http.StatusOK, out
}

func (s *Server) handleFilterPut(r *http.Request) (int, any) {
	var in gen.PutNewFilter
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	for _, k := range []string{"filter_type", "regex"} {
		if !hasKey(raw, k) {
			return 0, validationErr(k, pyRepr(k)+" is a required property")
		}
	}
	if e := intRange("filter_type", in.FilterType, 10, 29); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mod, ae := s.modLocked(r)
	if ae != nil {
		return 0, ae
	}
	for _, f := range s.filtersLocked(in.FilterType) {
		if f.regex == in.Regex {
			return http.StatusOK, f.details()
		}
	}
	f := &promptFilter{id: s.ext.nextFilter, regex: in.Regex, ftype: in.FilterType, description: in.Description,
		replacement: deref(in.Replacement, ""), user: mod}
	s.ext.nextFilter++
	s.ext.filters[f.id] = f
	return http.StatusOK, f.details()
}

func (s *Server) handleFilterCheck(r *http.Request) (int, any) {
	var in gen.PostFiltersJSONBody
	if _, e := decodeParsed(r, &in); e != nil { // reqparse: filter_type goes through int()
		return 0, e
	}
	if in.Prompt == nil {
		return 0, validationErr("prompt", "The prompt to check. Missing required parameter in the JSON body")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	sus, matches := s.promptSuspicionLocked(*in.Prompt, deref(in.FilterType, 0))
	return http.StatusOK, map[string]any{"suspicion": strconv.Itoa(sus), "matches": matches}
}

func (s *Server) handleFilterRegex(r *http.Request) (int, any) {
	ftype, e := filterTypeQuery(r)
	if e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	out := []map[string]any{}
	for _, ft := range filterTypes {
		if ftype != 0 && ft != ftype {
			continue
		}
		e := map[string]any{"filter_type": ft}
		if re := s.compiledFilterLocked(ft); re != nil {
			e["regex"] = strings.TrimPrefix(re.String(), "(?i)")
		}
		out = append(out, e)
	}
	return http.StatusOK, out
}

// filterByPathLocked finds the path's filter; ids are integers.
func (s *Server) filterByPathLocked(r *http.Request) (*promptFilter, *apiError) {
	id := r.PathValue("filter_id")
	n, err := strconv.Atoi(id)
	if err != nil {
		return nil, internalError() // the integer column does not take it
	}
	f := s.ext.filters[n]
	if f == nil {
		return nil, filterNotFound(id)
	}
	return f, nil
}

func (s *Server) handleFilterGet(r *http.Request) (int, any) {
	id := r.PathValue("filter_id")
	if !isDigits(id) {
		return 0, filterNotFound(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	f, ae := s.filterByPathLocked(r)
	if ae != nil {
		return 0, ae
	}
	return http.StatusOK, f.details()
}

func (s *Server) handleFilterPatch(r *http.Request) (int, any) {
	var in gen.PatchExistingFilter
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if e := optRange("filter_type", in.FilterType, 10, 29); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mod, ae := s.modLocked(r)
	if ae != nil {
		return 0, ae
	}
	f, ae := s.filterByPathLocked(r)
	if ae != nil {
		return 0, ae
	}
	// Empty values count as absent, as in the server's truthiness checks.
	if deref(in.FilterType, 0) == 0 && deref(in.Regex, "") == "" && deref(in.Description, "") == "" && deref(in.Replacement, "") == "" {
		return 0, herr(http.StatusBadRequest, "NoFilterModSelected", "No filter patching selected!")
	}
	f.user = mod
	if v := deref(in.FilterType, 0); v != 0 {
		f.ftype = v
	}
	if v := deref(in.Regex, ""); v != "" {
		f.regex = v
	}
	if v := deref(in.Description, ""); v != "" {
		f.description = ptr(v)
	}
	if v := deref(in.Replacement, ""); v != "" {
		f.replacement = v
	}
	return http.StatusOK, f.details()
}

func (s *Server) handleFilterDelete(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	f, ae := s.filterByPathLocked(r)
	if ae != nil {
		return 0, ae
	}
	delete(s.ext.filters, f.id)
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// filterPromptLocked applies the filters to an image prompt: with a suspicion of 2 the
// prompt is rewritten by the replacement filter (when asked for, or for an education
// account); a prompt it cannot rewrite is refused, and a non-moderator's address goes into
// timeout.
func (s *Server) filterPromptLocked(r *http.Request, u *user, prompt string, replace bool, now time.Time) (string, *apiError) {
	if sus, _ := s.promptSuspicionLocked(prompt, 0); sus < 2 {
		return prompt, nil
	}
	if replace || u.ext.education {
		pos := prompt
		if i := strings.Index(pos, "###"); i >= 0 {
			pos = pos[:i]
		}
		if len([]rune(pos)) > 7000 {
			return "", herr(http.StatusBadRequest, "BadRequest", "Prompt has to be below 7000 chars when replacement filter is on")
		}
		if p, ok := s.replacePromptLocked(prompt); ok {
			return p, nil
		}
	}
	if !u.Moderator {
		u.ext.suspicion++
		s.reportIPSuspicionLocked(clientIP(r), now)
	}
	return "", herr(http.StatusBadRequest, "CorruptPrompt",
		"This prompt appears to violate our terms of service and will be reported. Please contact us if you think this is an error.")
}
