package hordetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func addFilter(t *testing.T, s *Server, body map[string]any) string {
	t.Helper()
	r := call(t, s, "PUT", "v2/filters", keyMod, body)
	require.Equal(t, 200, r.status, "%s", r.raw)
	return r.str("id")
}

func TestFilterCRUD(t *testing.T) {
	s := newTestServer(t, modUser())
	id := addFilter(t, s, map[string]any{"regex": "bad(word)?", "filter_type": 10, "description": "bad things"})
	assert.Equal(t, "1", id)
	assert.Equal(t, id, addFilter(t, s, map[string]any{"regex": "bad(word)?", "filter_type": 10, "replacement": "x"}), "an existing regex is returned as is")
	tests := []struct {
		name, method, path, key string
		body                    any
		status                  int
		rc                      string
	}{
		{"put without regex", "PUT", "v2/filters", keyMod, map[string]any{"filter_type": 10}, 400, ""},
		{"put a bad type", "PUT", "v2/filters", keyMod, map[string]any{"regex": "x", "filter_type": 30}, 400, ""},
		{"put without a key", "PUT", "v2/filters", "", map[string]any{"regex": "x", "filter_type": 10}, 400, ""},
		{"put with a bad key", "PUT", "v2/filters", "nope", map[string]any{"regex": "x", "filter_type": 10}, 401, "InvalidAPIKey"},
		{"put by a user", "PUT", "v2/filters", keyAlice, map[string]any{"regex": "x", "filter_type": 10}, 403, "NotModerator"},
		{"list by a user", "GET", "v2/filters", keyAlice, nil, 403, "NotModerator"},
		{"get", "GET", "v2/filters/" + id, keyMod, nil, 200, ""},
		{"get a word", "GET", "v2/filters/abc", keyMod, nil, 404, "FilterNotFound"},
		{"get unknown", "GET", "v2/filters/99", keyMod, nil, 404, "FilterNotFound"},
		{"patch nothing", "PATCH", "v2/filters/" + id, keyMod, map[string]any{"description": ""}, 400, "NoFilterModSelected"},
		{"patch unknown", "PATCH", "v2/filters/99", keyMod, map[string]any{"regex": "y"}, 404, "FilterNotFound"},
		{"patch by a user", "PATCH", "v2/filters/" + id, keyAlice, map[string]any{"regex": "y"}, 403, "NotModerator"},
		{"patch", "PATCH", "v2/filters/" + id, keyMod, map[string]any{"regex": "badder", "replacement": "good"}, 200, ""},
		{"delete by a user", "DELETE", "v2/filters/" + id, keyAlice, nil, 403, "NotModerator"},
		{"check without a prompt", "POST", "v2/filters", keyMod, map[string]any{}, 400, ""},
		{"regex by a user", "GET", "v2/filters/regex", keyAlice, nil, 403, "NotModerator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			if tc.name == "patch" {
				assert.Equal(t, "badder", r.str("regex"))
				assert.Equal(t, "good", r.str("replacement"))
				assert.Equal(t, "bad things", r.str("description"))
				assert.Equal(t, "mod#4", r.str("user"))
			}
		})
	}
	addFilter(t, s, map[string]any{"regex": "evil", "filter_type": 11})
	addFilter(t, s, map[string]any{"regex": "worse", "filter_type": 20})
	addFilter(t, s, map[string]any{"regex": "extra", "filter_type": 20})
	assert.Len(t, call(t, s, "GET", "v2/filters", keyMod, nil).list, 4)
	assert.Len(t, call(t, s, "GET", "v2/filters?filter_type=20", keyMod, nil).list, 2)
	assert.Len(t, call(t, s, "GET", "v2/filters?contains=bad", keyMod, nil).list, 1, "contains looks at regexes and descriptions")
	rx := call(t, s, "GET", "v2/filters/regex", keyMod, nil)
	assert.Equal(t, []any{
		map[string]any{"filter_type": 10.0, "regex": "badder"},
		map[string]any{"filter_type": 11.0, "regex": "evil"},
		map[string]any{"filter_type": 20.0, "regex": "worse|extra"},
	}, rx.list)
	assert.Len(t, call(t, s, "GET", "v2/filters/regex?filter_type=11", keyMod, nil).list, 1)
	assert.Equal(t, 200, call(t, s, "DELETE", "v2/filters/"+id, keyMod, nil).status)
	assert.Equal(t, 404, call(t, s, "DELETE", "v2/filters/"+id, keyMod, nil).status)
}

func TestFilterPromptCheck(t *testing.T) {
	s := newTestServer(t, modUser())
	addFilter(t, s, map[string]any{"regex": "badword", "filter_type": 10})
	addFilter(t, s, map[string]any{"regex": "evil", "filter_type": 11})
	addFilter(t, s, map[string]any{"regex": "worse", "filter_type": 20})
	tests := []struct {
		prompt    string
		only      int
		suspicion string
		matches   []any
	}{
		{"a nice day", 0, "0", []any{}},
		{"a BADWORD day", 0, "1", []any{"BADWORD"}},
		{"badword and evil count once per group", 0, "1", []any{"badword"}},
		{"evil and worse", 0, "2", []any{"evil", "worse"}},
		{"(worse:1.3) e v i l", 0, "2", []any{"evil", "worse"}},
		{"x b.a.d.w.o.r.d", 0, "1", []any{"badword"}},
		{"b_a_d_w_o_r_d keeps its first letter apart", 0, "0", []any{}},
		{"fine ### badword in the negative prompt", 0, "0", []any{}},
		{"evil and worse", 20, "1", []any{"worse"}},
	}
	for _, tc := range tests {
		t.Run(tc.prompt, func(t *testing.T) {
			body := map[string]any{"prompt": tc.prompt}
			if tc.only != 0 {
				body["filter_type"] = tc.only
			}
			r := call(t, s, "POST", "v2/filters", keyMod, body)
			require.Equal(t, 200, r.status, "%s", r.raw)
			assert.Equal(t, tc.suspicion, r.str("suspicion"))
			assert.Equal(t, tc.matches, r.body["matches"])
		})
	}
}

func TestFilterGenerationAndIPTimeout(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, modUser(), WithClock(clk))
	addFilter(t, s, map[string]any{"regex": "badword", "filter_type": 10, "replacement": "fine"})
	addFilter(t, s, map[string]any{"regex": "worse", "filter_type": 20})
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	gen := func(key string, body map[string]any, ip string) resp {
		return call(t, s, "POST", "v2/generate/async", key, body, from(ip)...)
	}
	ok := gen(keyAlice, map[string]any{"prompt": "badword worse ### ugly"}, "192.0.2.1")
	require.Equal(t, 202, ok.status, "%s", ok.raw)
	p := popImage(t, s, nil)
	assert.Equal(t, "fine worse ###child, infant, underage, immature, teenager, tween,  ugly",
		p.body["payload"].(map[string]any)["prompt"], "the replacement filter rewrites the prompt")

	refused := gen(keyAlice, map[string]any{"prompt": "badword worse", "replacement_filter": false}, "192.0.2.2")
	require.Equal(t, 400, refused.status, "%s", refused.raw)
	assert.Equal(t, "CorruptPrompt", refused.str("rc"))
	timeout := gen(keyAlice, map[string]any{"prompt": "x"}, "192.0.2.2")
	assert.Equal(t, "TimeoutIP", timeout.str("rc"))
	assert.Contains(t, timeout.str("message"), "180 more seconds")
	text := call(t, s, "POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "x"}, from("192.0.2.2")...)
	assert.Equal(t, "TimeoutIP", text.str("rc"), "text requests are refused too")
	u := call(t, s, "GET", "v2/users/1", keyMod, nil)
	assert.EqualValues(t, 1, u.num("suspicious"), "the user gains a suspicion")

	clk.Advance(3 * time.Minute)
	gen(keyAlice, map[string]any{"prompt": "badword worse", "replacement_filter": false}, "192.0.2.2")
	single := call(t, s, "GET", "v2/operations/ipaddr/192.0.2.2", keyMod, nil)
	assert.Equal(t, []any{map[string]any{"ipaddr": "192.0.2.2", "seconds": 540.0}}, single.list, "each report lasts longer: 3, 9, 15 minutes")

	mod := gen(keyMod, map[string]any{"prompt": "badword worse", "replacement_filter": false}, "192.0.2.3")
	assert.Equal(t, "CorruptPrompt", mod.str("rc"))
	assert.Equal(t, 202, gen(keyMod, map[string]any{"prompt": "x"}, "192.0.2.3").status, "moderators are not put into timeout")

	addFilter(t, s, map[string]any{"regex": "fine worse", "filter_type": 10, "replacement": ""})
	empty := gen(keyAlice, map[string]any{"prompt": "badword worse"}, "192.0.2.4")
	assert.Equal(t, "CorruptPrompt", empty.str("rc"), "a prompt the filter empties is refused")
}
