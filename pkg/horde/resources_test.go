package horde_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
)

// basePath is where the test servers mount the API, to catch paths built from the host alone.
const basePath = "/api"

// seen is one request as the server received it.
type seen struct {
	method string
	path   string // escaped, as on the request line, without the query
	query  string
	header http.Header
	body   []byte
}

// reply is one answer of a test server.
type reply struct {
	status int
	body   string
}

// resourceServer answers requests under basePath with its replies in turn (the last one repeats)
// and records what it received.
type resourceServer struct {
	mu      sync.Mutex
	replies []reply
	reqs    []seen
}

func (f *resourceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, _, _ := strings.Cut(r.RequestURI, "?")
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{r.Method, path, r.URL.RawQuery, r.Header.Clone(), body})
	rp := f.replies[min(len(f.reqs), len(f.replies))-1]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rp.status)
	_, _ = io.WriteString(w, rp.body)
}

func (f *resourceServer) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// newResourceServer starts a server that answers with replies and a client for it, without rate
// limiting (nothing waits) and with the extra options.
func newResourceServer(t *testing.T, replies []reply, opts ...horde.Option) (*horde.Client, *resourceServer) {
	t.Helper()
	f := &resourceServer{replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	opts = append([]horde.Option{
		horde.WithBaseURL(srv.URL + basePath + "/"),
		horde.WithAPIKey("test-key-123"),
		horde.WithRateLimiting(false),
	}, opts...)
	c, err := horde.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

// fixture returns a recorded response body from testdata/aihorde.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "aihorde", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// expect returns a check that the result is a T in which get finds want.
func expect[T any, V comparable](get func(T) V, want V) func(*testing.T, any) {
	return func(t *testing.T, got any) {
		t.Helper()
		v, ok := got.(T)
		if !ok {
			t.Fatalf("the result is a %T, want a %T", got, *new(T))
		}
		if g := get(v); g != want {
			t.Errorf("decoded %v, want %v", g, want)
		}
	}
}

// first returns a check that the result is a non-empty []T whose first element passes check.
func first[T any](check func(*testing.T, any)) func(*testing.T, any) {
	return func(t *testing.T, got any) {
		t.Helper()
		list, ok := got.([]T)
		if !ok || len(list) == 0 {
			t.Fatalf("the result is %#v, want a non-empty []%T", got, *new(T))
		}
		check(t, &list[0])
	}
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("the request body %q is not JSON: %v", got, err)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %q: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// resourceCase is one ergonomic method and the request it must make.
type resourceCase struct {
	name   string
	call   func(context.Context, *horde.Client) (any, error)
	method string
	path   string // escaped, below basePath
	query  string // as url.Values.Encode writes it (keys sorted)
	body   string // the JSON body expected; "" for none
	status int    // of the success reply; 0 means 200
	reply  string // the success reply's body: JSON, a fixture's name, or "[name]" for a list of it
	check  func(*testing.T, any)
}

const (
	workerID = "4d2f6e8a-93a4-4bde-a1c9-0b5a1d7f8c21"
	styleID  = "0749f046-311b-4812-a758-d11f5f801ddd"
	otherID  = "11111111-2222-4333-8444-555555555555"
	deleted  = `{"message":"OK"}`
	message  = `{"id":"` + otherID + `","worker_id":"` + workerID + `","user_id":"4","message":"Hello Worker!","origin":"mods","expiry":"Thu, 03 Dec 2026 03:09:52 -0000","created":"Thu, 03 Dec 2026 03:09:52 -0000"}`
	modified = `{"id":"` + styleID + `","message":"OK","warnings":[{"code":"NoAvailableWorker","message":"no worker"}]}`
	textSty  = `{"id":"` + styleID + `","name":"noir","prompt":"{p}","models":["koboldcpp/x"]}`
	coll     = `{"id":"` + otherID + `","name":"faves","type":"image","styles":[{"name":"noir","id":"` + styleID + `"}]}`
	team     = `{"id":"` + otherID + `","name":"Direct Action","info":"Anarchy is emergent order."}`
	sharedK  = `{"id":"` + otherID + `","username":"gopoc#4","name":"mutual aid","kudos":5000,"utilized":0}`
	filter   = `{"id":"` + otherID + `","regex":"ac.*","filter_type":10,"user":"gopoc#4"}`
)

func resourceCases() []resourceCase {
	styleModified := expect(func(m *gen.StyleModify) string { return deref(m.ID) }, styleID)
	return append(operationCases(), []resourceCase{
		// users
		{name: "FindUser", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.FindUser(ctx) },
			method: "GET", path: "/v2/find_user", reply: "live/find_user_200.json",
			check: expect(func(u *gen.UserDetails) string { return deref(u.Username) }, "gopoc#4")},
		{name: "User", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.User(ctx, 4) },
			method: "GET", path: "/v2/users/4", reply: "live/users_id_200.json",
			check: expect(func(u *gen.UserDetails) int { return deref(u.ID) }, 4)},
		{name: "Users", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.Users(ctx, &gen.GetUsersParams{Page: new(2), Sort: new("age")})
		},
			method: "GET", path: "/v2/users", query: "page=2&sort=age", reply: "[live/users_id_200.json]",
			check: first[gen.UserDetails](expect(func(u *gen.UserDetails) string { return deref(u.Username) }, "gopoc#4"))},
		{name: "ModifyUser", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyUser(ctx, 4, gen.ModifyUserInput{Concurrency: new(10), Trusted: new(true)})
		},
			method: "PUT", path: "/v2/users/4", body: `{"concurrency":10,"trusted":true}`,
			reply: "examples/responses/_v2_users_user_id_put_200.json",
			check: expect(func(u *gen.ModifyUser) string { return deref(u.Username) }, "username#1")},
		{name: "DeleteUser", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteUser(ctx, 4) },
			method: "DELETE", path: "/v2/users/4", reply: deleted},

		// workers
		{name: "Workers", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.Workers(ctx, &gen.GetWorkersParams{Type: new("image"), Name: new("gopoc worker")})
		},
			method: "GET", path: "/v2/workers", query: "name=gopoc+worker&type=image", reply: "live/workers_200.json",
			check: first[gen.WorkerDetails](expect(func(w *gen.WorkerDetails) string { return deref(w.Performance) }, "1.0 megapixelsteps per second"))},
		{name: "Worker", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Worker(ctx, workerID) },
			method: "GET", path: "/v2/workers/" + workerID, reply: "live/workers_id_200.json",
			check: expect(func(w *gen.WorkerDetails) string { return deref(w.Owner) }, "gopoc#4")},
		{name: "WorkerByName", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.WorkerByName(ctx, "my worker") },
			method: "GET", path: "/v2/workers/name/my%20worker", reply: "live/workers_id_200.json",
			check: expect(func(w *gen.WorkerDetails) string { return deref(w.Owner) }, "gopoc#4")},
		{name: "ModifyWorker", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyWorker(ctx, workerID, gen.ModifyWorkerInput{Maintenance: new(true), Info: new("hi")})
		},
			method: "PUT", path: "/v2/workers/" + workerID, body: `{"maintenance":true,"info":"hi"}`,
			reply: "examples/responses/_v2_workers_worker_id_put_200.json",
			check: expect(func(w *gen.ModifyWorker) string { return deref(w.Team) }, "Direct Action")},
		{name: "DeleteWorker", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteWorker(ctx, workerID) },
			method: "DELETE", path: "/v2/workers/" + workerID, reply: "examples/responses/_v2_workers_worker_id_delete_200.json"},
		{name: "WorkerMessages", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.WorkerMessages(ctx, &gen.GetWorkerMessagesParams{WorkerID: new(workerID), Validity: new("all"), Page: new(3)})
		},
			method: "GET", path: "/v2/workers/messages", query: "page=3&validity=all&worker_id=" + workerID, reply: "[" + message + "]",
			check: first[gen.ResponseModelMessage](expect(func(m *gen.ResponseModelMessage) string { return m.Message }, "Hello Worker!"))},
		{name: "WorkerMessage", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.WorkerMessage(ctx, otherID) },
			method: "GET", path: "/v2/workers/messages/" + otherID, reply: message,
			check: expect(func(m *gen.ResponseModelMessage) string { return *m.WorkerID }, workerID)},
		{name: "SendWorkerMessage", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.SendWorkerMessage(ctx, gen.InputModelMessage{WorkerID: new(workerID), Message: "Hello Worker!", Expiry: new(12)})
		},
			method: "POST", path: "/v2/workers/messages", body: `{"worker_id":"` + workerID + `","message":"Hello Worker!","expiry":12}`,
			reply: message, check: expect(func(m *gen.ResponseModelMessage) string { return m.ID }, otherID)},
		{name: "DeleteWorkerMessage", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return nil, c.DeleteWorkerMessage(ctx, otherID)
		},
			method: "DELETE", path: "/v2/workers/messages/" + otherID, reply: deleted},

		// status
		{name: "Heartbeat", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Heartbeat(ctx) },
			method: "GET", path: "/v2/status/heartbeat", reply: "examples/responses/_v2_status_heartbeat_get_200.json",
			check: expect(func(h *gen.Heartbeat) string { return deref(h.Version) }, "4.34.1")},
		{name: "Models", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.Models(ctx, &gen.GetModelsParams{Type: new("text"), MinCount: new(1)})
		},
			method: "GET", path: "/v2/status/models", query: "min_count=1&type=text", reply: "live/status_models_text_200.json",
			check: first[gen.ActiveModel](expect(func(m *gen.ActiveModel) string { return deref(m.Name) }, "koboldcpp/test"))},
		{name: "Model", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Model(ctx, "aphrodite/x/y") },
			method: "GET", path: "/v2/status/models/aphrodite%2Fx%2Fy", reply: "live/status_models_text_200.json",
			check: expect(func(m *gen.ActiveModel) int { return deref(m.Count) }, 1)},
		{name: "Modes", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Modes(ctx) },
			method: "GET", path: "/v2/status/modes", reply: `{"maintenance_mode":true,"invite_only_mode":false}`,
			check: expect(func(m *gen.HordeModes) bool { return deref(m.MaintenanceMode) }, true)},
		{name: "SetModes", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.SetModes(ctx, gen.HordeModes{RaidMode: new(true)})
		},
			method: "PUT", path: "/v2/status/modes", body: `{"raid_mode":true}`,
			reply: `{"maintenance_mode":false,"invite_only_mode":false,"raid_mode":true}`,
			check: expect(func(m *gen.HordeModes) bool { return deref(m.RaidMode) }, true)},
		{name: "News", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.News(ctx) },
			method: "GET", path: "/v2/status/news", reply: "live/status_news_200.json",
			check: first[gen.Newspiece](expect(func(n *gen.Newspiece) string { return deref(n.DatePublished) }, "2025-12-16"))},
		{name: "Performance", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Performance(ctx) },
			method: "GET", path: "/v2/status/performance", reply: "live/status_performance_200.json",
			check: expect(func(p *gen.HordePerformance) float64 { return deref(p.QueuedMegapixelsteps) }, 5.24)},

		// stats
		{name: "ImageTotals", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.ImageTotals(ctx) },
			method: "GET", path: "/v2/stats/img/totals", reply: `{"minute":{"images":1,"ps":2},"total":{"images":123,"ps":456}}`,
			check: expect(func(s *gen.StatsImgTotals) int { return deref(deref(s.Total).Images) }, 123)},
		{name: "TextTotals", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.TextTotals(ctx) },
			method: "GET", path: "/v2/stats/text/totals", reply: `{"day":{"requests":7,"tokens":700}}`,
			check: expect(func(s *gen.StatsTxtTotals) int { return deref(deref(s.Day).Tokens) }, 700)},
		{name: "ImageModelStats", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ImageModelStats(ctx, &gen.GetImageHordeStatsModelsParams{ModelState: new("known")})
		},
			method: "GET", path: "/v2/stats/img/models", query: "model_state=known",
			reply: `{"day":{"stable_diffusion":3},"month":{},"total":{"stable_diffusion":30}}`,
			check: expect(func(s *gen.ImgModelStats) int { return s.Total["stable_diffusion"] }, 30)},
		{name: "TextModelStats", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.TextModelStats(ctx) },
			method: "GET", path: "/v2/stats/text/models", reply: "examples/responses/_v2_stats_text_models_get_200.json",
			check: expect(func(s *gen.TxtModelStats) int { return len(s.Month) }, 3)},

		// image styles
		{name: "ImageStyles", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ImageStyles(ctx, &gen.GetImageStyleParams{Sort: new("age"), Page: new(2), Tag: new("noir")})
		},
			method: "GET", path: "/v2/styles/image", query: "page=2&sort=age&tag=noir", reply: "live/styles_image_200.json",
			check: first[gen.StyleStable](expect(func(s *gen.StyleStable) string { return s.Name }, "my-style"))},
		{name: "ImageStyle", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.ImageStyle(ctx, styleID) },
			method: "GET", path: "/v2/styles/image/" + styleID, reply: "live/styles_image_get_200.json",
			check: expect(func(s *gen.StyleStable) string { return s.Name }, "pocstyle1795835450")},
		{name: "ImageStyleByName", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ImageStyleByName(ctx, "gopoc#4::noir 50%")
		},
			method: "GET", path: "/v2/styles/image_by_name/gopoc%234::noir%2050%25", reply: "live/styles_image_get_200.json",
			check: expect(func(s *gen.StyleStable) string { return deref(s.Creator) }, "gopoc#4")},
		{name: "CreateImageStyle", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CreateImageStyle(ctx, gen.ModelStyleInputStable{Name: "noir", Prompt: new("{p}###{np}"), Models: []string{"stable_diffusion"}})
		},
			method: "POST", path: "/v2/styles/image", body: `{"name":"noir","prompt":"{p}###{np}","models":["stable_diffusion"]}`,
			reply: "live/styles_image_post_200.json", check: styleModified},
		{name: "ModifyImageStyle", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyImageStyle(ctx, styleID, gen.ModelStylePatchStable{Public: new(false)})
		},
			method: "PATCH", path: "/v2/styles/image/" + styleID, body: `{"public":false}`, reply: modified,
			check: expect(func(m *gen.StyleModify) int { return len(m.Warnings) }, 1)},
		{name: "DeleteImageStyle", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteImageStyle(ctx, styleID) },
			method: "DELETE", path: "/v2/styles/image/" + styleID, reply: deleted},
		{name: "AddImageStyleExample", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.AddImageStyleExample(ctx, styleID, gen.InputStyleExamplePost{URL: new("https://example.com/a.webp"), Primary: new(true)})
		},
			method: "POST", path: "/v2/styles/image/" + styleID + "/example", body: `{"url":"https://example.com/a.webp","primary":true}`,
			reply: modified, check: styleModified},
		{name: "ModifyImageStyleExample", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyImageStyleExample(ctx, styleID, otherID, gen.InputStyleExamplePost{Primary: new(false)})
		},
			method: "PATCH", path: "/v2/styles/image/" + styleID + "/example/" + otherID, body: `{"primary":false}`,
			reply: modified, check: styleModified},
		{name: "DeleteImageStyleExample", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return nil, c.DeleteImageStyleExample(ctx, styleID, otherID)
		},
			method: "DELETE", path: "/v2/styles/image/" + styleID + "/example/" + otherID, reply: deleted},

		// text styles
		{name: "TextStyles", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.TextStyles(ctx, &gen.GetTextStyleParams{Model: new("koboldcpp/x")})
		},
			method: "GET", path: "/v2/styles/text", query: "model=koboldcpp%2Fx", reply: "[" + textSty + "]",
			check: first[gen.StyleKobold](expect(func(s *gen.StyleKobold) string { return s.Name }, "noir"))},
		{name: "TextStyle", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.TextStyle(ctx, styleID) },
			method: "GET", path: "/v2/styles/text/" + styleID, reply: textSty,
			check: expect(func(s *gen.StyleKobold) string { return deref(s.Prompt) }, "{p}")},
		{name: "TextStyleByName", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.TextStyleByName(ctx, "noir") },
			method: "GET", path: "/v2/styles/text_by_name/noir", reply: textSty,
			check: expect(func(s *gen.StyleKobold) string { return deref(s.ID) }, styleID)},
		{name: "CreateTextStyle", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CreateTextStyle(ctx, gen.ModelStyleInputKobold{Name: "noir", Prompt: new("{p}")})
		},
			method: "POST", path: "/v2/styles/text", body: `{"name":"noir","prompt":"{p}"}`, reply: modified, check: styleModified},
		{name: "ModifyTextStyle", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyTextStyle(ctx, styleID, gen.ModelStylePatchKobold{Tags: []string{"dark"}})
		},
			method: "PATCH", path: "/v2/styles/text/" + styleID, body: `{"tags":["dark"]}`, reply: modified, check: styleModified},
		{name: "DeleteTextStyle", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteTextStyle(ctx, styleID) },
			method: "DELETE", path: "/v2/styles/text/" + styleID, reply: deleted},

		// collections
		{name: "Collections", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.Collections(ctx, &gen.GetCollectionParams{Type: new("image"), Sort: new("popular")})
		},
			method: "GET", path: "/v2/collections", query: "sort=popular&type=image", reply: "[" + coll + "]",
			check: first[gen.ResponseModelCollection](expect(func(c *gen.ResponseModelCollection) string { return deref(c.Name) }, "faves"))},
		{name: "Collection", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Collection(ctx, otherID) },
			method: "GET", path: "/v2/collections/" + otherID, reply: coll,
			check: expect(func(c *gen.ResponseModelCollection) int { return len(c.Styles) }, 1)},
		{name: "CollectionByName", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.CollectionByName(ctx, "my/faves") },
			method: "GET", path: "/v2/collection_by_name/my%2Ffaves", reply: coll,
			check: expect(func(c *gen.ResponseModelCollection) string { return deref(c.ID) }, otherID)},
		{name: "CreateCollection", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CreateCollection(ctx, gen.InputModelCollection{Name: new("faves"), Styles: []string{styleID}})
		},
			method: "POST", path: "/v2/collections", body: `{"name":"faves","styles":["` + styleID + `"]}`,
			reply: "examples/responses/_v2_collections_post_200.json",
			check: expect(func(m *gen.StyleModify) string { return string(deref(m.Warnings[0].Code)) }, "NoAvailableWorker")},
		{name: "ModifyCollection", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyCollection(ctx, otherID, gen.InputModelCollection{Info: new("best")})
		},
			method: "PATCH", path: "/v2/collections/" + otherID, body: `{"info":"best"}`, reply: modified, check: styleModified},
		{name: "DeleteCollection", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteCollection(ctx, otherID) },
			method: "DELETE", path: "/v2/collections/" + otherID, reply: deleted},

		// teams
		{name: "Teams", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Teams(ctx) },
			method: "GET", path: "/v2/teams", reply: "examples/responses/_v2_teams_get_200.json",
			check: first[gen.TeamDetails](expect(func(t *gen.TeamDetails) string { return deref(t.Creator) }, "db0#1"))},
		{name: "Team", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Team(ctx, otherID) },
			method: "GET", path: "/v2/teams/" + otherID, reply: "examples/responses/_v2_teams_team_id_get_200.json",
			check: expect(func(t *gen.TeamDetails) int { return deref(t.WorkerCount) }, 10)},
		{name: "CreateTeam", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CreateTeam(ctx, gen.CreateTeamInput{Name: "Direct Action", Info: new("Anarchy is emergent order.")})
		},
			method: "POST", path: "/v2/teams", body: `{"name":"Direct Action","info":"Anarchy is emergent order."}`, reply: team,
			check: expect(func(t *gen.ModifyTeam) string { return deref(t.ID) }, otherID)},
		{name: "ModifyTeam", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyTeam(ctx, otherID, gen.ModifyTeamInput{Name: new("Direct Action")})
		},
			method: "PATCH", path: "/v2/teams/" + otherID, body: `{"name":"Direct Action"}`, reply: team,
			check: expect(func(t *gen.ModifyTeam) string { return deref(t.Name) }, "Direct Action")},
		{name: "DeleteTeam", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteTeam(ctx, otherID) },
			method: "DELETE", path: "/v2/teams/" + otherID, reply: `{"deleted_id":"` + otherID + `","deleted_name":"Direct Action"}`},

		// shared keys
		{name: "SharedKey", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.SharedKey(ctx, otherID) },
			method: "GET", path: "/v2/sharedkeys/" + otherID, reply: sharedK,
			check: expect(func(k *gen.SharedKeyDetails) int { return deref(k.Kudos) }, 5000)},
		{name: "CreateSharedKey", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CreateSharedKey(ctx, gen.SharedKeyInput{Name: new("mutual aid"), Kudos: new(5000), Expiry: new(-1)})
		},
			method: "PUT", path: "/v2/sharedkeys", body: `{"name":"mutual aid","kudos":5000,"expiry":-1}`, reply: sharedK,
			check: expect(func(k *gen.SharedKeyDetails) string { return deref(k.ID) }, otherID)},
		{name: "ModifySharedKey", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifySharedKey(ctx, otherID, gen.SharedKeyInput{MaxImageSteps: new(30)})
		},
			method: "PATCH", path: "/v2/sharedkeys/" + otherID, body: `{"max_image_steps":30}`, reply: sharedK,
			check: expect(func(k *gen.SharedKeyDetails) string { return deref(k.Name) }, "mutual aid")},
		{name: "DeleteSharedKey", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteSharedKey(ctx, otherID) },
			method: "DELETE", path: "/v2/sharedkeys/" + otherID, reply: deleted},

		// kudos
		{name: "TransferKudos", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.TransferKudos(ctx, "bob#5", 100) },
			method: "POST", path: "/v2/kudos/transfer", body: `{"username":"bob#5","amount":100}`,
			reply: "examples/responses/_v2_kudos_transfer_post_200.json",
			check: expect(func(k *gen.KudosTransferred) float64 { return deref(k.Transferred) }, 100)},
		{name: "AwardKudos", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.AwardKudos(ctx, "bob#5", 25) },
			method: "POST", path: "/v2/kudos/award", body: `{"username":"bob#5","amount":25}`, reply: `{"awarded":25}`,
			check: expect(func(k *gen.KudosAwarded) float64 { return deref(k.Awarded) }, 25)},

		// filters
		{name: "Filters", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.Filters(ctx, &gen.GetFiltersParams{FilterType: new(10), Contains: new("ac")})
		},
			method: "GET", path: "/v2/filters", query: "contains=ac&filter_type=10", reply: "[" + filter + "]",
			check: first[gen.FilterDetails](expect(func(f *gen.FilterDetails) string { return f.Regex }, "ac.*"))},
		{name: "Filter", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Filter(ctx, otherID) },
			method: "GET", path: "/v2/filters/" + otherID, reply: filter,
			check: expect(func(f *gen.FilterDetails) string { return f.User }, "gopoc#4")},
		{name: "CreateFilter", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CreateFilter(ctx, gen.PutNewFilter{Regex: "ac.*", FilterType: 10})
		},
			method: "PUT", path: "/v2/filters", body: `{"regex":"ac.*","filter_type":10}`, status: http.StatusCreated, reply: filter,
			check: expect(func(f *gen.FilterDetails) string { return f.ID }, otherID)},
		{name: "ModifyFilter", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.ModifyFilter(ctx, otherID, gen.PatchExistingFilter{Description: new("acronyms")})
		},
			method: "PATCH", path: "/v2/filters/" + otherID, body: `{"description":"acronyms"}`, reply: filter,
			check: expect(func(f *gen.FilterDetails) int { return f.FilterType }, 10)},
		{name: "DeleteFilter", call: func(ctx context.Context, c *horde.Client) (any, error) { return nil, c.DeleteFilter(ctx, otherID) },
			method: "DELETE", path: "/v2/filters/" + otherID, reply: deleted},
		{name: "CheckPrompt/all types", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CheckPrompt(ctx, "a cat", 0)
		},
			method: "POST", path: "/v2/filters", body: `{"prompt":"a cat"}`, reply: `{"suspicion":"0","matches":[]}`,
			check: expect(func(s *gen.FilterPromptSuspicion) string { return s.Suspicion }, "0")},
		{name: "CheckPrompt/one type", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CheckPrompt(ctx, "a cat", 20)
		},
			method: "POST", path: "/v2/filters", body: `{"prompt":"a cat","filter_type":20}`, reply: `{"suspicion":"2","matches":["cat"]}`,
			check: expect(func(s *gen.FilterPromptSuspicion) string { return strings.Join(s.Matches, ",") }, "cat")},
		{name: "FilterRegexes", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.FilterRegexes(ctx, &gen.GetFilterRegexParams{FilterType: new(11)})
		},
			method: "GET", path: "/v2/filters/regex", query: "filter_type=11", reply: `[{"filter_type":11,"regex":"a|b"}]`,
			check: first[gen.FilterRegex](expect(func(f *gen.FilterRegex) string { return *f.Regex }, "a|b"))},

		// documents
		{name: "Terms", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Terms(ctx, horde.DocumentMarkdown) },
			method: "GET", path: "/v2/documents/terms", query: "format=markdown", reply: `{"markdown":"# Terms"}`,
			check: expect(func(d *gen.HordeDocument) string { return deref(d.Markdown) }, "# Terms")},
		{name: "PrivacyPolicy", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.PrivacyPolicy(ctx, "") },
			method: "GET", path: "/v2/documents/privacy", reply: `{"html":"<p>privacy</p>"}`,
			check: expect(func(d *gen.HordeDocument) string { return deref(d.HTML) }, "<p>privacy</p>")},
		{name: "Sponsors", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.Sponsors(ctx, horde.DocumentHTML) },
			method: "GET", path: "/v2/documents/sponsors", query: "format=html", reply: `{"html":"<p>thanks</p>"}`,
			check: expect(func(d *gen.HordeDocument) string { return deref(d.HTML) }, "<p>thanks</p>")},
	}...)
}

// TestResourceRequests checks, for every ergonomic method, the request the server receives and
// the decoded answer.
func TestResourceRequests(t *testing.T) {
	for _, tc := range resourceCases() {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.reply
			if name, ok := strings.CutSuffix(body, ".json"); ok {
				body = fixture(t, name+".json")
			} else if name, ok := strings.CutSuffix(body, ".json]"); ok {
				body = "[" + fixture(t, name[1:]+".json") + "]"
			}
			status := tc.status
			if status == 0 {
				status = http.StatusOK
			}
			c, f := newResourceServer(t, []reply{{status, body}})
			got, err := tc.call(t.Context(), c)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("the server got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != tc.method || r.path != basePath+tc.path {
				t.Errorf("request %s %s, want %s %s", r.method, r.path, tc.method, basePath+tc.path)
			}
			if q, err := url.ParseQuery(r.query); err != nil || q.Encode() != tc.query {
				t.Errorf("query %q, want %q", r.query, tc.query)
			}
			switch {
			case tc.body == "" && len(r.body) != 0:
				t.Errorf("body %s, want none", r.body)
			case tc.body != "" && !sameJSON(t, r.body, tc.body):
				t.Errorf("body %s, want %s", r.body, tc.body)
			}
			if tc.body != "" && r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q, want application/json", r.header.Get("Content-Type"))
			}
			if tc.check != nil {
				tc.check(t, got)
			} else if got != nil {
				t.Errorf("result %#v, want none", got)
			}
		})
	}
}

// TestResourceErrors checks that every ergonomic method turns a 404 into an *APIError that
// matches ErrNotFound, and returns no result with it.
func TestResourceErrors(t *testing.T) {
	const notFound = `{"message":"x","rc":"UserNotFound"}`
	for _, tc := range resourceCases() {
		t.Run(tc.name, func(t *testing.T) {
			c, f := newResourceServer(t, []reply{{http.StatusNotFound, notFound}})
			got, err := tc.call(t.Context(), c)
			if !errors.Is(err, horde.ErrNotFound) {
				t.Fatalf("error %v, want one that matches ErrNotFound", err)
			}
			var apiErr *horde.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %T %v, want an *APIError", err, err)
			}
			if apiErr.StatusCode != http.StatusNotFound || apiErr.RC != gen.ReturnCodeUserNotFound || apiErr.Message != "x" {
				t.Errorf("APIError %+v, want 404 UserNotFound \"x\"", apiErr)
			}
			if apiErr.Method != tc.method || apiErr.Path != basePath+tc.path {
				t.Errorf("APIError names %s %s, want %s %s", apiErr.Method, apiErr.Path, tc.method, basePath+tc.path)
			}
			if v := reflect.ValueOf(got); got != nil && !v.IsNil() {
				t.Errorf("result %#v with the error, want none", got)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("the server got %d requests, want 1 (a 404 is not retried)", n)
			}
		})
	}
}

// TestModelUnknown checks that the empty list the server sends for an unknown model is an
// error that matches ErrNotFound.
func TestModelUnknown(t *testing.T) {
	c, _ := newResourceServer(t, []reply{{http.StatusOK, `[]`}})
	m, err := c.Model(t.Context(), "no/such/model")
	if !errors.Is(err, horde.ErrNotFound) || m != nil {
		t.Fatalf("Model = %v, %v; want nil and an error matching ErrNotFound", m, err)
	}
	if !strings.Contains(err.Error(), `"no/such/model"`) {
		t.Errorf("error %q does not name the model", err)
	}
}

// TestResourceBadBody checks that a 2xx answer that does not decode is an error, not a result.
func TestResourceBadBody(t *testing.T) {
	c, _ := newResourceServer(t, []reply{{http.StatusOK, `{"username": 4}`}})
	if u, err := c.FindUser(t.Context()); err == nil {
		t.Fatalf("FindUser = %+v, nil; want an error", u)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// fastRetries retries at once, so that tests do not wait.
var fastRetries = horde.WithRetryPolicy(horde.RetryPolicy{MaxAttempts: 3})

// TestTransferKudosIdempotencyKey checks that every transfer carries a fresh v4 UUID key, and
// that the retry after a 503 sends the same key.
func TestTransferKudosIdempotencyKey(t *testing.T) {
	ok := fixture(t, "examples/responses/_v2_kudos_transfer_post_200.json")
	c, f := newResourceServer(t, []reply{{http.StatusServiceUnavailable, `{"message":"down"}`}, {http.StatusOK, ok}}, fastRetries)
	res, err := c.TransferKudos(t.Context(), "bob#5", 100)
	if err != nil {
		t.Fatal(err)
	}
	if deref(res.Transferred) != 100 {
		t.Errorf("transferred %v, want 100", deref(res.Transferred))
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("the server got %d requests, want 2 (a 503, then the retry)", len(reqs))
	}
	key := reqs[0].header.Get("Idempotency-Key")
	if !uuidV4.MatchString(key) {
		t.Errorf("Idempotency-Key %q is not a v4 UUID", key)
	}
	if again := reqs[1].header.Get("Idempotency-Key"); again != key {
		t.Errorf("the retry sent Idempotency-Key %q, the first attempt %q", again, key)
	}
	for i, r := range reqs {
		if !sameJSON(t, r.body, `{"username":"bob#5","amount":100}`) {
			t.Errorf("attempt %d sent %s", i+1, r.body)
		}
	}

	// A second transfer is another operation: it gets another key.
	if _, err := c.TransferKudos(t.Context(), "bob#5", 100); err != nil {
		t.Fatal(err)
	}
	reqs = f.requests()
	if next := reqs[len(reqs)-1].header.Get("Idempotency-Key"); next == key || !uuidV4.MatchString(next) {
		t.Errorf("the next transfer sent Idempotency-Key %q after %q, want a new v4 UUID", next, key)
	}
}

// TestTransferKudosWithKey checks that the caller's key is sent, and an empty key refused
// before anything is sent.
func TestTransferKudosWithKey(t *testing.T) {
	c, f := newResourceServer(t, []reply{{http.StatusOK, `{"transferred":7}`}})
	if _, err := c.TransferKudosWithKey(t.Context(), "", "bob#5", 7); err == nil {
		t.Error("an empty key was accepted")
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("the server got %d requests for an empty key, want 0", n)
	}
	res, err := c.TransferKudosWithKey(t.Context(), "my-key-1", "bob#5", 7)
	if err != nil {
		t.Fatal(err)
	}
	if deref(res.Transferred) != 7 {
		t.Errorf("transferred %v, want 7", deref(res.Transferred))
	}
	if got := f.requests()[0].header.Get("Idempotency-Key"); got != "my-key-1" {
		t.Errorf("Idempotency-Key %q, want my-key-1", got)
	}
}

// TestAwardKudosNotRetried checks that an award, which has no idempotency key, is sent once
// even when the answer is a 503.
func TestAwardKudosNotRetried(t *testing.T) {
	c, f := newResourceServer(t, []reply{{http.StatusServiceUnavailable, `{"message":"down"}`}, {http.StatusOK, `{"awarded":1}`}}, fastRetries)
	_, err := c.AwardKudos(t.Context(), "bob#5", 1)
	if !errors.Is(err, horde.ErrMaintenance) {
		t.Errorf("error %v, want the 503 (ErrMaintenance)", err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("the server got %d requests, want 1", len(reqs))
	}
	if k := reqs[0].header.Get("Idempotency-Key"); k != "" {
		t.Errorf("the award sent Idempotency-Key %q", k)
	}
}

// TestNewIdempotencyKey checks the format of the keys and that they differ.
func TestNewIdempotencyKey(t *testing.T) {
	seenKeys := map[string]bool{}
	for range 1000 {
		k := horde.NewIdempotencyKey()
		if !uuidV4.MatchString(k) {
			t.Fatalf("%q is not a v4 UUID", k)
		}
		if seenKeys[k] {
			t.Fatalf("%q came twice", k)
		}
		seenKeys[k] = true
	}
}
