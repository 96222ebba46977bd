package hordetest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/hordetest"
)

// A user's test generating an image against the simulator: the built-in worker answers at
// once, so the request is done by the time its status is read.
func Example() {
	srv := hordetest.NewServer(
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 100}),
		hordetest.WithAutoFulfil(0),
	)
	defer srv.Close()

	auth := gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("apikey", "alice-key")
		return nil
	})
	client, err := gen.NewClientWithResponses(srv.URL, gen.WithHTTPClient(srv.Client()), auth)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	queued, err := client.PostImageAsyncGenerateWithResponse(ctx, gen.GenerationInputStable{Prompt: "a lighthouse at dusk"})
	if err != nil {
		panic(err)
	}
	status, err := client.GetImageAsyncStatusWithResponse(ctx, *queued.JSON202.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(queued.StatusCode(), *status.JSON200.Done, len(status.JSON200.Generations), *status.JSON200.Generations[0].Model)
	// Output: 202 true 1 stable_diffusion
}

// A worker's test: pop a job, upload the image to the R2 URL, submit, and assert through
// introspection that the job was submitted exactly once.
func ExampleNewServer_worker() {
	srv := hordetest.NewServer(
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 100}),
		hordetest.WithUser(hordetest.User{Name: "wally", APIKey: "worker-key", Trusted: true}),
	)
	defer srv.Close()
	ctx := context.Background()
	as := func(key string) gen.ClientOption {
		return gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("apikey", key)
			return nil
		})
	}
	alice, _ := gen.NewClientWithResponses(srv.URL, gen.WithHTTPClient(srv.Client()), as("alice-key"))
	worker, _ := gen.NewClientWithResponses(srv.URL, gen.WithHTTPClient(srv.Client()), as("worker-key"))

	if _, err := alice.PostImageAsyncGenerateWithResponse(ctx, gen.GenerationInputStable{Prompt: "a red fox"}); err != nil {
		panic(err)
	}
	name, agent := "my-worker", "AI Horde Worker reGen:13.0.0:https://example.org"
	job, err := worker.PostImageJobPopWithResponse(ctx, gen.PopInputStable{Name: &name, BridgeAgent: &agent,
		Models: []string{"stable_diffusion"}})
	if err != nil {
		panic(err)
	}
	upload, _ := http.NewRequest(http.MethodPut, *job.JSON200.R2Upload, strings.NewReader("image bytes"))
	res, err := srv.Client().Do(upload)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	r2 := "R2"
	sub, err := worker.PostImageJobSubmitWithResponse(ctx, gen.SubmitInputStable{ID: *job.JSON200.ID, Generation: &r2, Seed: 42})
	if err != nil {
		panic(err)
	}
	fmt.Println(sub.StatusCode(), *sub.JSON200.Reward, *job.JSON200.Payload.Prompt)
	for _, j := range srv.Jobs() {
		fmt.Println(j.State, j.Submits)
	}
	// Output:
	// 200 6.5 a red fox
	// done 1
}

// Faults switch on and off while the server runs.
func ExampleFaults_Set() {
	srv := hordetest.NewServer()
	defer srv.Close()
	get := func() int {
		res, err := srv.Client().Get(srv.URL + "v2/status/heartbeat")
		if err != nil {
			panic(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	srv.Faults().Set("get_heartbeat", hordetest.Fault{Error503: 1})
	fmt.Println(get())
	srv.Faults().Clear("get_heartbeat")
	fmt.Println(get())
	// Output:
	// 503
	// 200
}
