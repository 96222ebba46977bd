package horde_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
)

// fakeHorde is a stand-in for the AI Horde that answers one image request at once.
func fakeHorde() *httptest.Server {
	mux := http.NewServeMux()
	reply := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	img := base64.StdEncoding.EncodeToString([]byte("RIFF\x00\x00\x00\x00WEBP"))
	mux.HandleFunc("POST /api/v2/generate/async", reply(202, `{"id":"8c2f","kudos":10}`))
	mux.HandleFunc("GET /api/v2/generate/check/8c2f", reply(200, `{"done":true,"finished":1,"is_possible":true}`))
	mux.HandleFunc("GET /api/v2/generate/status/8c2f", reply(200,
		`{"done":true,"finished":1,"kudos":10,"generations":[{"id":"g1","img":"`+img+`","seed":"1234","model":"stable_diffusion","worker_name":"w","state":"ok"}]}`))
	mux.HandleFunc("GET /api/v2/generate/check/gone", reply(404, `{"message":"Request Not found","rc":"RequestNotFound"}`))
	return httptest.NewServer(mux)
}

func ExampleNewClient() {
	c, err := horde.NewClient(
		horde.WithAPIKey(horde.AnonymousAPIKey),
		horde.WithClientAgent("my-app:1.0:https://example.org/my-app"),
		horde.WithRequestTimeout(30*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.BaseURL())
	fmt.Println(c.ClientAgent())
	// Output:
	// https://aihorde.net/api/
	// my-app:1.0:https://example.org/my-app
}

func ExampleClient_GenerateImage() {
	srv := hordetest.NewServer(hordetest.WithAutoFulfil(0)) // a local AI Horde with a worker
	defer srv.Close()

	c, err := horde.NewClient(horde.WithBaseURL(srv.URL)) // omit WithBaseURL for aihorde.net
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.GenerateImage(context.Background(), params.Image{Prompt: "a lighthouse in the fog"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, img := range res.Images {
		fmt.Printf("%s: image of %d bytes from %s\n", img.Model, len(img.Data), img.WorkerName)
	}
	// Output:
	// stable_diffusion: image of 162 bytes from hordetest-builtin-image
}

func ExampleOnProgress() {
	srv := fakeHorde() // answers at once
	defer srv.Close()
	c, err := horde.NewClient(horde.WithBaseURL(srv.URL + "/api/"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.GenerateImageBody(context.Background(), gen.GenerationInputStable{Prompt: "a lighthouse"},
		horde.OnProgress(func(p horde.Progress) {
			fmt.Printf("queue %d, finished %d, done %v\n", p.QueuePosition, p.Finished, p.Done)
		}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("image %s: seed %s, %d bytes, by %s\n", res.Images[0].ID, res.Images[0].Seed, len(res.Images[0].Data), res.Images[0].WorkerName)
	// Output:
	// queue 0, finished 1, done true
	// image g1: seed 1234, 12 bytes, by w
}

func ExampleAPIError() {
	srv := fakeHorde()
	defer srv.Close()
	c, err := horde.NewClient(horde.WithBaseURL(srv.URL + "/api/"))
	if err != nil {
		log.Fatal(err)
	}

	r, err := c.Raw().GetImageAsyncCheckWithResponse(context.Background(), "gone")
	if err == nil {
		err = horde.APIErrorFromResponse(r.HTTPResponse, r.Body)
	}
	var apiErr *horde.APIError
	switch {
	case errors.Is(err, horde.ErrNotFound) && errors.As(err, &apiErr):
		fmt.Println("not found:", apiErr.StatusCode, apiErr.RC)
	case errors.Is(err, horde.ErrRateLimited):
		fmt.Println("slow down")
	case err != nil:
		fmt.Println("failed:", err)
	}
	// Output:
	// not found: 404 RequestNotFound
}
