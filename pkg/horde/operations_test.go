package horde_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/internal/routes"
	"github.com/horde-go/horde/pkg/horde"
)

// methodOf names the Client method of every operation of the API. TestEveryOperationHasAMethod
// holds it to the generated route table: an operation the API gains fails the test until it
// has a method.
var methodOf = map[string]string{
	"get_single_collection_by_name": "CollectionByName", "get_collection": "Collections",
	"post_collection": "CreateCollection", "delete_single_collection": "DeleteCollection",
	"get_single_collection": "Collection", "patch_single_collection": "ModifyCollection",
	"get_docs_privacy": "PrivacyPolicy", "get_docs_sponsors": "Sponsors", "get_docs_terms": "Terms",
	"get_filters": "Filters", "post_filters": "CheckPrompt", "put_filters": "CreateFilter",
	"delete_filter_single": "DeleteFilter", "get_filter_single": "Filter", "patch_filter_single": "ModifyFilter",
	"get_filter_regex": "FilterRegexes", "get_find_user": "FindUser",
	"post_image_async_generate": "RequestImage", "get_image_async_check": "ImageCheck",
	"get_image_async_status": "ImageStatus", "delete_image_async_status": "CancelImage",
	"post_image_job_pop": "PopImageJob", "post_image_job_submit": "SubmitImageJob", "post_aesthetics": "SubmitAesthetics",
	"post_text_async_generate": "RequestText", "get_text_async_status": "TextStatus", "delete_text_async_status": "CancelText",
	"post_text_job_pop": "PopTextJob", "post_text_job_submit": "SubmitTextJob",
	"post_interrogate": "RequestInterrogation", "get_interrogation_status": "InterrogationStatus",
	"delete_interrogation_status": "CancelInterrogation",
	"post_interrogate_pop":        "PopAlchemyJob", "post_interrogate_submit": "SubmitAlchemyForm",
	"post_award_kudos": "AwardKudos", "post_transfer_kudos": "TransferKudosWithKey",
	"delete_operations_block_worker_ip": "UnblockWorkerIP", "put_operations_block_worker_ip": "BlockWorkerIP",
	"delete_operations_ip": "DeleteIPTimeout", "get_operations_ip": "IPTimeouts", "post_operations_ip": "AddIPTimeout",
	"get_operations_ip_single": "IPTimeout",
	"put_shared_key":           "CreateSharedKey", "delete_shared_key_single": "DeleteSharedKey",
	"get_shared_key_single": "SharedKey", "patch_shared_key_single": "ModifySharedKey",
	"get_image_horde_stats_models": "ImageModelStats", "get_image_horde_stats_totals": "ImageTotals",
	"get_text_horde_stats_models": "TextModelStats", "get_text_horde_stats_totals": "TextTotals",
	"get_heartbeat": "Heartbeat", "get_models": "Models", "get_model_single": "Model",
	"get_horde_modes": "Modes", "put_horde_modes": "SetModes", "get_horde_news": "News", "get_horde_load": "Performance",
	"get_image_style": "ImageStyles", "post_image_style": "CreateImageStyle", "delete_single_image_style": "DeleteImageStyle",
	"get_single_image_style": "ImageStyle", "patch_single_image_style": "ModifyImageStyle",
	"post_image_style_example": "AddImageStyleExample", "delete_single_image_style_example": "DeleteImageStyleExample",
	"patch_single_image_style_example": "ModifyImageStyleExample", "get_single_image_style_by_name": "ImageStyleByName",
	"get_text_style": "TextStyles", "post_text_style": "CreateTextStyle", "delete_single_text_style": "DeleteTextStyle",
	"get_single_text_style": "TextStyle", "patch_single_text_style": "ModifyTextStyle",
	"get_single_text_style_by_name": "TextStyleByName",
	"get_teams":                     "Teams", "post_teams": "CreateTeam", "delete_team_single": "DeleteTeam",
	"get_team_single": "Team", "patch_team_single": "ModifyTeam",
	"get_users": "Users", "delete_user_single": "DeleteUser", "get_user_single": "User", "put_user_single": "ModifyUser",
	"get_workers": "Workers", "delete_worker_single": "DeleteWorker", "get_worker_single": "Worker",
	"put_worker_single": "ModifyWorker", "get_worker_single_name": "WorkerByName",
	"get_worker_messages": "WorkerMessages", "post_worker_messages": "SendWorkerMessage",
	"delete_single_worker_message": "DeleteWorkerMessage", "get_single_worker_message": "WorkerMessage",
}

// TestEveryOperationHasAMethod: each of the API's operations has a method on Client that takes
// a context first and returns an error last (with the decoded body before it, when there is one).
func TestEveryOperationHasAMethod(t *testing.T) {
	client := reflect.TypeFor[*horde.Client]()
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	seen := map[string]bool{}
	for _, op := range routes.Operations {
		seen[op.ID] = true
		name, ok := methodOf[op.ID]
		if !ok {
			t.Errorf("%s (%s %s) has no method on Client", op.ID, op.Method, op.Path)
			continue
		}
		m, ok := client.MethodByName(name)
		if !ok {
			t.Errorf("%s: Client has no method %s", op.ID, name)
			continue
		}
		ft := m.Type // the receiver is In(0)
		if ft.NumIn() < 2 || ft.In(1) != ctxType {
			t.Errorf("%s: %s does not take a context.Context first", op.ID, name)
		}
		if n := ft.NumOut(); n == 0 || n > 2 || ft.Out(n-1) != errType {
			t.Errorf("%s: %s does not return (T, error) or error", op.ID, name)
		}
	}
	if len(routes.Operations) != 90 {
		t.Errorf("the route table has %d operations, want the API's 90", len(routes.Operations))
	}
	for id := range methodOf {
		if !seen[id] {
			t.Errorf("methodOf names %s, which the API does not have", id)
		}
	}
}

// operationCases are the resource cases of the request, worker and moderation operations.
func operationCases() []resourceCase {
	const reqID = "f253ae51-02a7-432d-b265-6f556bc506d7"
	submitted := expect(func(s *gen.GenerationSubmitted) float64 { return deref(s.Reward) }, 10)
	okMessage := expect(func(s *gen.SimpleResponse) string { return s.Message }, "OK")
	return []resourceCase{
		// asynchronous requests
		{name: "RequestImage", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.RequestImage(ctx, gen.GenerationInputStable{Prompt: "a lighthouse"})
		},
			method: "POST", path: "/v2/generate/async", body: `{"prompt":"a lighthouse"}`, status: 202,
			reply: "live/generate_async_202.json", check: expect(func(r *gen.RequestAsync) string { return deref(r.ID) }, reqID)},
		{name: "ImageCheck", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.ImageCheck(ctx, reqID) },
			method: "GET", path: "/v2/generate/check/" + reqID, reply: "live/generate_check_200.json",
			check: expect(func(r *gen.RequestStatusCheck) float64 { return deref(r.Kudos) }, 3)},
		{name: "ImageStatus", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.ImageStatus(ctx, reqID) },
			method: "GET", path: "/v2/generate/status/" + reqID, reply: `{"done":true,"generations":[{"id":"x","seed":"7"}]}`,
			check: expect(func(r *gen.RequestStatusStable) int { return len(r.Generations) }, 1)},
		{name: "CancelImage", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.CancelImage(ctx, reqID) },
			method: "DELETE", path: "/v2/generate/status/" + reqID, reply: `{"done":false,"faulted":false,"generations":[]}`,
			check: expect(func(r *gen.RequestStatusStable) bool { return deref(r.Done) }, false)},
		{name: "RequestText", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.RequestText(ctx, gen.GenerationInputKobold{Prompt: new("Once")})
		},
			method: "POST", path: "/v2/generate/text/async", body: `{"prompt":"Once"}`, status: 202,
			reply: `{"id":"` + reqID + `","kudos":2}`, check: expect(func(r *gen.RequestAsync) string { return deref(r.ID) }, reqID)},
		{name: "TextStatus", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.TextStatus(ctx, reqID) },
			method: "GET", path: "/v2/generate/text/status/" + reqID, reply: `{"done":true,"generations":[{"text":"upon"}]}`,
			check: expect(func(r *gen.RequestStatusKobold) int { return len(r.Generations) }, 1)},
		{name: "CancelText", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.CancelText(ctx, reqID) },
			method: "DELETE", path: "/v2/generate/text/status/" + reqID, reply: `{"done":false,"generations":[]}`,
			check: expect(func(r *gen.RequestStatusKobold) bool { return deref(r.Done) }, false)},
		{name: "RequestInterrogation", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.RequestInterrogation(ctx, gen.ModelInterrogationInputStable{SourceImage: new("https://example.com/a.webp")})
		},
			method: "POST", path: "/v2/interrogate/async", body: `{"source_image":"https://example.com/a.webp"}`, status: 202,
			reply: `{"id":"` + reqID + `"}`, check: expect(func(r *gen.RequestInterrogationResponse) string { return deref(r.ID) }, reqID)},
		{name: "InterrogationStatus", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.InterrogationStatus(ctx, reqID)
		},
			method: "GET", path: "/v2/interrogate/status/" + reqID, reply: `{"state":"done","forms":[{"form":"caption","state":"done","result":{"caption":"a cat"}}]}`,
			check: expect(func(r *gen.InterrogationStatus) int { return len(r.Forms) }, 1)},
		{name: "CancelInterrogation", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.CancelInterrogation(ctx, reqID)
		},
			method: "DELETE", path: "/v2/interrogate/status/" + reqID, reply: `{"state":"cancelled","forms":[]}`,
			check: expect(func(r *gen.InterrogationStatus) string { return deref(r.State) }, "cancelled")},

		// worker operations
		{name: "PopImageJob", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.PopImageJob(ctx, gen.PopInputStable{Name: new("w"), Models: []string{"stable_diffusion"}})
		},
			method: "POST", path: "/v2/generate/pop", body: `{"name":"w","models":["stable_diffusion"]}`,
			reply: "live/generate_pop_200.json", check: func(t *testing.T, got any) {
				// The recorded pop found no job: it says why requests were skipped.
				if p, ok := got.(*gen.GenerationPayloadStable); !ok || p.ID != nil || p.Skipped == nil {
					t.Errorf("pop %#v, want no job and the skipped reasons", got)
				}
			}},
		{name: "SubmitImageJob", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.SubmitImageJob(ctx, gen.SubmitInputStable{ID: reqID, Generation: new("R2")})
		},
			method: "POST", path: "/v2/generate/submit", body: `{"id":"` + reqID + `","generation":"R2","seed":0}`,
			reply: `{"reward":10}`, check: submitted},
		{name: "PopTextJob", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.PopTextJob(ctx, gen.PopInputKobold{Name: new("w")})
		},
			method: "POST", path: "/v2/generate/text/pop", body: `{"name":"w"}`,
			reply: "live/text_pop_200.json", check: func(t *testing.T, got any) {
				if p, ok := got.(*gen.GenerationPayloadKobold); !ok || p.ID == nil {
					t.Errorf("pop %#v, want a job", got)
				}
			}},
		{name: "SubmitTextJob", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.SubmitTextJob(ctx, gen.SubmitInputKobold{ID: reqID, Generation: new("upon")})
		},
			method: "POST", path: "/v2/generate/text/submit", body: `{"id":"` + reqID + `","generation":"upon"}`,
			reply: `{"reward":10}`, check: submitted},
		{name: "PopAlchemyJob", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.PopAlchemyJob(ctx, gen.InterrogationPopInput{Name: new("w"), Forms: []gen.InterrogationFormName{"caption"}})
		},
			method: "POST", path: "/v2/interrogate/pop", body: `{"name":"w","forms":["caption"]}`,
			reply: `{"forms":[{"id":"` + reqID + `","form":"caption","source_image":"https://example.com/a.webp"}]}`,
			check: expect(func(p *gen.InterrogationPopPayload) int { return len(p.Forms) }, 1)},
		{name: "SubmitAlchemyForm", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.SubmitAlchemyForm(ctx, gen.PostInterrogateSubmitJSONRequestBody{ID: new(reqID), Result: map[string]any{"caption": "a cat"}})
		},
			method: "POST", path: "/v2/interrogate/submit", body: `{"id":"` + reqID + `","result":{"caption":"a cat"}}`,
			reply: `{"reward":10}`, check: submitted},
		{name: "SubmitAesthetics", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.SubmitAesthetics(ctx, reqID, gen.AestheticsPayload{Best: new("x")})
		},
			method: "POST", path: "/v2/generate/rate/" + reqID, body: `{"best":"x"}`,
			reply: `{"reward":10}`, check: submitted},

		// IP timeouts
		{name: "IPTimeouts", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.IPTimeouts(ctx) },
			method: "GET", path: "/v2/operations/ipaddr", reply: `[{"ipaddr":"10.0.0.1","seconds":60}]`,
			check: first[gen.IPTimeout](expect(func(p *gen.IPTimeout) string { return p.Ipaddr }, "10.0.0.1"))},
		{name: "IPTimeout", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.IPTimeout(ctx, "10.0.0.1") },
			method: "GET", path: "/v2/operations/ipaddr/10.0.0.1", reply: `[{"ipaddr":"10.0.0.1","seconds":60}]`,
			check: first[gen.IPTimeout](expect(func(p *gen.IPTimeout) int { return p.Seconds }, 60))},
		{name: "AddIPTimeout", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.AddIPTimeout(ctx, gen.AddTimeoutIPInput{Ipaddr: "10.0.0.1", Hours: 2})
		},
			method: "POST", path: "/v2/operations/ipaddr", body: `{"ipaddr":"10.0.0.1","hours":2}`, reply: `{"message":"OK"}`, check: okMessage},
		{name: "DeleteIPTimeout", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.DeleteIPTimeout(ctx, gen.DeleteTimeoutIPInput{Ipaddr: "10.0.0.1"})
		},
			method: "DELETE", path: "/v2/operations/ipaddr", body: `{"ipaddr":"10.0.0.1"}`, reply: `{"message":"OK"}`, check: okMessage},
		{name: "BlockWorkerIP", call: func(ctx context.Context, c *horde.Client) (any, error) {
			return c.BlockWorkerIP(ctx, workerID, gen.AddWorkerTimeout{Days: 3})
		},
			method: "PUT", path: "/v2/operations/block_worker_ipaddr/" + workerID, body: `{"days":3}`, reply: `{"message":"OK"}`, check: okMessage},
		{name: "UnblockWorkerIP", call: func(ctx context.Context, c *horde.Client) (any, error) { return c.UnblockWorkerIP(ctx, workerID) },
			method: "DELETE", path: "/v2/operations/block_worker_ipaddr/" + workerID, reply: `{"message":"OK"}`, check: okMessage},
	}
}
