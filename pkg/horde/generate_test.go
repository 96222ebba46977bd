package horde

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
)

var webp = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L fake image bytes")

// imageScript is a scripted image request: the check answers in order (the last repeats).
type imageScript struct {
	mu      sync.Mutex
	checks  []map[string]any
	status  map[string]any
	checked []time.Time
}

func (s *imageScript) install(f *fakeHorde) {
	f.handle("POST /v2/generate/async", jsonHandler(202, map[string]any{
		"id": "req-1", "kudos": 12,
		"warnings": []any{map[string]any{"code": "NoAvailableWorker", "message": "no worker serves this model"}},
	}))
	f.handle("GET /v2/generate/check/req-1", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.checked = append(s.checked, time.Now())
		next := s.checks[0]
		if len(s.checks) > 1 {
			s.checks = s.checks[1:]
		}
		writeJSON(w, 200, next)
	})
	f.handle("GET /v2/generate/status/req-1", jsonHandler(200, s.status))
	f.handle("DELETE /v2/generate/status/req-1", jsonHandler(200, s.status))
}

func check(queue, waiting, processing, finished int, done bool) map[string]any {
	return map[string]any{"queue_position": queue, "waiting": waiting, "processing": processing,
		"finished": finished, "done": done, "is_possible": true, "wait_time": 5, "kudos": 12}
}

func finishedStatus(faulted bool) map[string]any {
	gens := []any{
		map[string]any{"id": "gen-a", "img": "http://r2.test/bucket/gen-a.webp?sig=1", "seed": "42", "model": "m",
			"worker_id": "w1", "worker_name": "one", "censored": false, "state": "ok"},
		map[string]any{"id": "gen-b", "img": base64.StdEncoding.EncodeToString(webp), "seed": "43", "model": "m",
			"worker_id": "w2", "worker_name": "two", "censored": true, "state": "ok",
			"gen_metadata": []any{map[string]any{"type": "censorship", "value": "csam"}}},
	}
	return map[string]any{"done": true, "faulted": faulted, "finished": 2, "kudos": 20, "generations": gens}
}

func r2Bucket(t *testing.T) *fakeHorde {
	r2 := newFakeHorde(t)
	r2.handle("GET /bucket/gen-a.webp", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(webp) })
	return r2
}

func imageRequest() gen.GenerationInputStable {
	return gen.GenerationInputStable{Prompt: "a lighthouse", Models: &[]string{"m"}, Params: &gen.ModelGenerationInputStable{N: ptr(2)}}
}

func TestGenerateImage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		s := &imageScript{
			checks: []map[string]any{check(3, 2, 0, 0, false), check(1, 2, 0, 0, false), check(0, 0, 2, 0, false), check(0, 0, 0, 2, true)},
			status: finishedStatus(false),
		}
		s.install(f)
		c := newTestClient(t, f, map[string]http.Handler{"r2.test": r2Bucket(t)}, WithAPIKey(secretKey))

		var progress []Progress
		res, err := c.GenerateImageBody(context.Background(), imageRequest(), OnProgress(func(p Progress) { progress = append(progress, p) }))
		require.NoError(t, err)

		require.Len(t, progress, 4)
		for i, want := range []int{3, 1, 0, 0} {
			assert.Equal(t, want, progress[i].QueuePosition)
			assert.Equal(t, "req-1", progress[i].ID)
		}
		assert.True(t, progress[3].Done)
		assert.Equal(t, 2, progress[2].Processing)
		assert.Equal(t, 5*time.Second, progress[0].WaitTime)
		for i := 1; i < len(s.checked); i++ {
			assert.GreaterOrEqual(t, s.checked[i].Sub(s.checked[i-1]), time.Second, "checks closer than 1 s")
		}
		assert.Equal(t, 1, f.count("GET", "/v2/generate/status/req-1"), "one status read at the end")
		assert.Zero(t, f.count("DELETE", "/v2/generate/status/req-1"))

		assert.Equal(t, "req-1", res.ID)
		assert.Equal(t, 20.0, res.Kudos)
		require.Len(t, res.Warnings, 1)
		require.Len(t, res.Images, 2)
		a, b := res.Images[0], res.Images[1]
		assert.Equal(t, webp, a.Data)
		assert.Equal(t, a.Data, b.Data, "R2 and base64 give the same bytes")
		assert.Equal(t, "http://r2.test/bucket/gen-a.webp?sig=1", a.URL)
		assert.Empty(t, b.URL)
		assert.Equal(t, Image{ID: "gen-a", Data: webp, URL: a.URL, Seed: "42", Model: "m", WorkerID: "w1", WorkerName: "one", State: "ok"}, a)
		assert.True(t, b.Censored)
		require.Len(t, b.Metadata, 1)
	})
}

func TestGenerateImageFaulted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		st := finishedStatus(true)
		st["generations"] = st["generations"].([]any)[:1]
		s := &imageScript{checks: []map[string]any{check(0, 0, 1, 1, false),
			{"done": true, "faulted": true, "finished": 1, "restarted": 3, "is_possible": true}}, status: st}
		s.install(f)
		c := newTestClient(t, f, map[string]http.Handler{"r2.test": r2Bucket(t)})
		res, err := c.GenerateImageBody(context.Background(), imageRequest())
		require.ErrorIs(t, err, ErrFaulted)
		var gerr *GenerationError
		require.ErrorAs(t, err, &gerr)
		assert.Equal(t, "req-1", gerr.ID)
		assert.Contains(t, err.Error(), "NoAvailableWorker")
		require.NotNil(t, res)
		require.Len(t, res.Images, 1, "the partial result is returned")
		assert.Equal(t, webp, res.Images[0].Data)
	})
}

func TestGenerateImageNotPossible(t *testing.T) {
	impossible := map[string]any{"queue_position": 1, "waiting": 1, "done": false, "is_possible": false}
	t.Run("cancelled by default", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeHorde(t)
			s := &imageScript{checks: []map[string]any{impossible}, status: map[string]any{"done": false}}
			s.install(f)
			c := newTestClient(t, f, nil)
			_, err := c.GenerateImageBody(context.Background(), imageRequest())
			require.ErrorIs(t, err, ErrNotPossible)
			var gerr *GenerationError
			require.ErrorAs(t, err, &gerr)
			assert.True(t, gerr.Cancelled)
			assert.Contains(t, err.Error(), "no worker serves this model")
			assert.Equal(t, 1, f.count("DELETE", "/v2/generate/status/req-1"))
		})
	})
	t.Run("WaitWhenImpossible keeps waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeHorde(t)
			s := &imageScript{checks: []map[string]any{impossible, impossible, check(0, 0, 0, 2, true)}, status: finishedStatus(false)}
			s.install(f)
			c := newTestClient(t, f, map[string]http.Handler{"r2.test": r2Bucket(t)})
			res, err := c.GenerateImageBody(context.Background(), imageRequest(), WaitWhenImpossible())
			require.NoError(t, err)
			assert.Len(t, res.Images, 2)
			assert.Zero(t, f.count("DELETE", "/v2/generate/status/req-1"))
		})
	})
}

// TestGenerateImageTimeout: when the deadline passes, the request is cancelled on the Horde and
// what finished is returned with the error.
func TestGenerateImageTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		partial := finishedStatus(false)
		partial["done"] = false
		partial["generations"] = partial["generations"].([]any)[1:]
		s := &imageScript{checks: []map[string]any{check(0, 0, 1, 1, false)}, status: partial}
		s.install(f)
		c := newTestClient(t, f, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := c.GenerateImageBody(ctx, imageRequest())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, f.count("DELETE", "/v2/generate/status/req-1"), "the request was not cancelled on the Horde")
		require.Len(t, res.Images, 1)
		assert.Equal(t, webp, res.Images[0].Data)
	})
}

func TestGenerateImagePanicCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		s := &imageScript{checks: []map[string]any{check(1, 1, 0, 0, false)}, status: map[string]any{}}
		s.install(f)
		c := newTestClient(t, f, nil)
		assert.PanicsWithValue(t, "callback bug", func() {
			_, _ = c.GenerateImageBody(context.Background(), imageRequest(), OnProgress(func(Progress) { panic("callback bug") }))
		})
		assert.Equal(t, 1, f.count("DELETE", "/v2/generate/status/req-1"))
	})
}

func TestGenerateImageRefused(t *testing.T) {
	f := newFakeHorde(t)
	f.handle("POST /v2/generate/async", jsonHandler(403, map[string]any{"message": "needs upfront kudos", "rc": "KudosUpfront"}))
	c := newTestClient(t, f, nil)
	res, err := c.GenerateImageBody(context.Background(), imageRequest())
	assert.Nil(t, res)
	require.ErrorIs(t, err, ErrKudosTooLow)
	assert.Contains(t, err.Error(), "refused the image request")
	assert.Contains(t, err.Error(), "KudosUpfront")
}

func TestSessionCloseCancelsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		s := &imageScript{checks: []map[string]any{check(5, 1, 0, 0, false)}, status: map[string]any{"done": false}}
		s.install(f)
		c := newTestClient(t, f, nil)
		sess := c.NewSession()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := sess.GenerateImageBody(ctx, imageRequest())
			done <- err
		}()
		synctest.Wait()
		assert.Equal(t, map[string]Kind{"req-1": KindImage}, sess.Pending())
		require.NoError(t, sess.Close(context.Background()))
		assert.Equal(t, 1, f.count("DELETE", "/v2/generate/status/req-1"))
		_, err := sess.GenerateImageBody(ctx, imageRequest())
		require.ErrorIs(t, err, ErrSessionClosed)
		cancel()
		<-done
		assert.Empty(t, sess.Pending())
	})
}

func TestGenerateText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("POST /v2/generate/text/async", jsonHandler(202, map[string]any{"id": "t-1", "kudos": 0}))
		n := 0
		f.handle("GET /v2/generate/text/status/t-1", func(w http.ResponseWriter, _ *http.Request) {
			n++
			if n < 3 {
				writeJSON(w, 200, map[string]any{"done": false, "waiting": 1, "is_possible": true, "queue_position": 1})
				return
			}
			writeJSON(w, 200, map[string]any{"done": true, "finished": 1, "kudos": 7, "generations": []any{
				map[string]any{"text": "Once upon a time", "seed": 9, "model": "koboldcpp/x", "worker_id": "w", "worker_name": "n", "state": "ok"}}})
		})
		c := newTestClient(t, f, nil)
		var steps int
		res, err := c.GenerateTextBody(context.Background(), gen.GenerationInputKobold{Prompt: ptr("Tell me")}, OnProgress(func(Progress) { steps++ }))
		require.NoError(t, err)
		assert.Equal(t, 3, steps)
		require.Len(t, res.Texts, 1)
		assert.Equal(t, Text{Text: "Once upon a time", Seed: 9, Model: "koboldcpp/x", WorkerID: "w", WorkerName: "n", State: "ok"}, res.Texts[0])
		assert.Equal(t, 7.0, res.Kudos)
	})
}

func TestInterrogate(t *testing.T) {
	statuses := []map[string]any{
		{"state": "processing", "forms": []any{map[string]any{"form": "caption", "state": "processing"}, map[string]any{"form": "nsfw", "state": "waiting"}}},
		{"state": "done", "forms": []any{
			map[string]any{"form": "caption", "state": "done", "result": map[string]any{"caption": "a cat"}},
			map[string]any{"form": "nsfw", "state": "done", "result": map[string]any{"nsfw": false}}}},
	}
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("POST /v2/interrogate/async", jsonHandler(202, map[string]any{"id": "a-1"}))
		i := 0
		f.handle("GET /v2/interrogate/status/a-1", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, statuses[min(i, len(statuses)-1)])
			i++
		})
		c := newTestClient(t, f, nil)
		res, err := c.InterrogateBody(context.Background(), gen.ModelInterrogationInputStable{
			SourceImage: ptr("https://example.org/cat.webp"),
			Forms:       []gen.ModelInterrogationFormStable{{Name: gen.InterrogationFormNameCaption}, {Name: gen.InterrogationFormNameNSFW}},
		})
		require.NoError(t, err)
		assert.Equal(t, "done", res.State)
		require.Len(t, res.Forms, 2)
		assert.Equal(t, FormResult{Form: "caption", State: "done", Result: map[string]any{"caption": "a cat"}}, res.Forms[0])
		assert.Equal(t, false, res.Forms[1].Result["nsfw"])
	})
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("POST /v2/interrogate/async", jsonHandler(202, map[string]any{"id": "a-2"}))
		f.handle("GET /v2/interrogate/status/a-2", jsonHandler(200, map[string]any{"state": "faulted",
			"forms": []any{map[string]any{"form": "caption", "state": "faulted"}}}))
		c := newTestClient(t, f, nil)
		res, err := c.InterrogateBody(context.Background(), gen.ModelInterrogationInputStable{SourceImage: ptr("x")})
		require.ErrorIs(t, err, ErrFaulted)
		assert.Equal(t, "faulted", res.State)
	})
}

func TestEstimateKudos(t *testing.T) {
	f := newFakeHorde(t)
	var sent map[string]any
	f.handle("POST /v2/generate/async", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&sent)
		writeJSON(w, 200, map[string]any{"kudos": 18.5})
	})
	f.handle("POST /v2/generate/text/async", jsonHandler(200, map[string]any{"kudos": 3}))
	c := newTestClient(t, f, nil)
	k, err := c.EstimateImageKudosBody(context.Background(), imageRequest())
	require.NoError(t, err)
	assert.Equal(t, 18.5, k)
	assert.Equal(t, true, sent["dry_run"])
	k, err = c.EstimateTextKudosBody(context.Background(), gen.GenerationInputKobold{Prompt: ptr("x")})
	require.NoError(t, err)
	assert.Equal(t, 3.0, k)

	// A server that queues the request anyway: it is cancelled, and the estimate is an error.
	f.handle("POST /v2/generate/async", jsonHandler(202, map[string]any{"id": "oops"}))
	f.handle("DELETE /v2/generate/status/oops", jsonHandler(200, map[string]any{}))
	_, err = c.EstimateImageKudosBody(context.Background(), imageRequest())
	require.Error(t, err)
	assert.Equal(t, 1, f.count("DELETE", "/v2/generate/status/oops"))
}

func TestDownloadLimitsAndRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r2 := newFakeHorde(t)
		fails := 0
		r2.handle("GET /flaky.webp", func(w http.ResponseWriter, _ *http.Request) {
			fails++
			if fails < 3 {
				w.WriteHeader(503)
				return
			}
			_, _ = w.Write(webp)
		})
		r2.handle("GET /big.webp", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(make([]byte, 1000)) })
		r2.handle("GET /gone.webp", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) })
		c := newTestClient(t, newFakeHorde(t), map[string]http.Handler{"r2.test": r2}, WithDownloadLimit(100))
		data, err := c.Download(context.Background(), "http://r2.test/flaky.webp")
		require.NoError(t, err)
		assert.Equal(t, webp, data)
		_, err = c.Download(context.Background(), "http://r2.test/big.webp?X-Amz-Signature=secret")
		require.ErrorContains(t, err, "limit")
		assert.NotContains(t, err.Error(), "secret", "signed URLs are redacted in errors")
		_, err = c.Download(context.Background(), "http://r2.test/gone.webp")
		require.ErrorContains(t, err, "404")
		assert.Equal(t, 1, r2.count("GET", "/gone.webp"), "a 404 is not retried")
	})
}

func TestDecodeBase64Image(t *testing.T) {
	for _, in := range []string{
		base64.StdEncoding.EncodeToString(webp),
		base64.RawStdEncoding.EncodeToString(webp),
		"data:image/webp;base64," + base64.StdEncoding.EncodeToString(webp),
	} {
		got, err := decodeBase64Image(in)
		require.NoError(t, err)
		assert.Equal(t, webp, got)
	}
	_, err := decodeBase64Image("not base64 !!")
	require.Error(t, err)
	require.True(t, errors.Is(err, err))
}
