package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/HugoSmits86/nativewebp"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/worker/internal/lifecycle"
)

// submission is one result on its way to the Horde: an optional R2 upload, then the submit.
type submission struct {
	resultID  string
	faulted   bool
	uploadURL string
	upload    []byte
	uploaded  bool
	send      func(ctx context.Context) (float64, error)
	kind      horde.Kind // for the observer
}

// outcome is how the Horde answered a submit.
type outcome int

const (
	accepted  outcome = iota // reward recorded
	duplicate                // "already submitted": the Horde has it; not a fault
	gone                     // the job does not exist (expired or cancelled): nothing to deliver
	refused                  // a refusal that retrying cannot change
	retry                    // a failure that may pass: transport, 5xx, 429
)

// classify reads a submit error.
func classify(err error) outcome {
	var apiErr *horde.APIError
	if !errors.As(err, &apiErr) {
		return retry // transport or decode failure
	}
	switch {
	case apiErr.RC == gen.ReturnCodeDuplicateGen || strings.Contains(apiErr.Message, "already submitted"):
		return duplicate
	case apiErr.RC == gen.ReturnCodeInvalidJobID || (apiErr.StatusCode == http.StatusNotFound):
		return gone
	case apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500:
		return retry
	default:
		return refused // AbortedGen (too slow), WrongCredentials, validation
	}
}

// reward reads the answer of a submit: the kudos it earned, or the *horde.APIError.
func reward(ok *gen.GenerationSubmitted, err error) (float64, error) {
	if err != nil {
		return 0, err
	}
	if ok.Reward != nil {
		return *ok.Reward, nil
	}
	return 0, nil
}

// settlement is how a job's submit phase ended.
type settlement int

const (
	settledDone   settlement = iota // the Horde has every result
	settledGone                     // the Horde no longer has the job: nothing to deliver, not a fault
	settledFailed                   // a result was refused, or expired undelivered
)

// submitJob delivers every result of a job and says how that ended.
// A result is never dropped because a submit failed: failures are retried with backoff, then
// every ResubmitInterval, until the Horde answers for good or the job expires.
func (w *Worker) submitJob(ctx context.Context, j job) settlement {
	g := j.generation()
	if s := g.State(); s != lifecycle.StateAborted && s != lifecycle.StatePendingSubmit {
		// A job that is neither finished nor faulted: should not happen; report it faulted.
		j.fault(fmt.Errorf("job left in state %s", s))
	}
	if g.State() == lifecycle.StatePendingSubmit {
		_ = g.To(lifecycle.StateSubmitting)
	}
	expires := j.popped().Add(w.s.JobExpiry)
	subs := j.submissions(w)
	results := make([]settlement, len(subs))
	var wg sync.WaitGroup
	for i, s := range subs {
		s.kind = j.kind()
		wg.Go(func() { results[i] = w.deliver(ctx, j, s, expires) })
	}
	wg.Wait()
	worst := settledDone
	for _, r := range results {
		worst = max(worst, r)
	}
	switch {
	case g.State() == lifecycle.StateSubmitting:
		_ = g.To(lifecycle.StateSubmitComplete)
		_ = g.To(lifecycle.StateComplete)
	case g.State() == lifecycle.StateAborted:
		_ = g.To(lifecycle.StateReportedFailed)
	}
	return worst
}

// deliver uploads and submits one result until the Horde answers for good. A duplicate counts
// as delivered: the Horde has it.
func (w *Worker) deliver(ctx context.Context, j job, s *submission, expires time.Time) settlement {
	log := w.s.Logger.With(slog.String("kind", string(j.kind())), slog.String("id", s.resultID))
	delay := w.s.SubmitBackoff
	for attempt := 1; ; attempt++ {
		err := w.attempt(ctx, s)
		if err == nil {
			return settledDone
		}
		switch classify(err) {
		case duplicate:
			w.st.duplicates.Add(1)
			log.Info("worker: the Horde already has this result", "error", err)
			return settledDone
		case gone:
			w.st.gone.Add(1)
			log.Warn("worker: the job no longer exists on the Horde", "error", err)
			return settledGone
		case refused:
			w.st.refused.Add(1)
			log.Warn("worker: the Horde refused the result", "error", err)
			return settledFailed
		}
		w.st.submitRetries.Add(1)
		w.observe(Event{Type: EventSubmitRetry, Kind: j.kind(), Model: j.model()})
		wait := min(delay, 30*time.Second)
		if attempt >= w.s.SubmitAttempts {
			wait = w.s.ResubmitInterval
		}
		var apiErr *horde.APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
			wait = apiErr.RetryAfter
		}
		if time.Now().Add(wait).After(expires) {
			w.st.expired.Add(1)
			log.Error("worker: giving up on a result: its job expired before the Horde took it",
				"attempts", attempt, "error", err)
			return settledFailed
		}
		log.Debug("worker: submit failed; retrying", "attempt", attempt, "in", wait, "error", err)
		if sleep(ctx, wait) != nil {
			return w.lastChance(ctx, s, log)
		}
		delay *= 2
	}
}

// lastChance makes one final attempt, on a short detached context, when the worker is aborted
// mid-retry: a result in hand is worth one more try.
func (w *Worker) lastChance(ctx context.Context, s *submission, log *slog.Logger) settlement {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := w.attempt(cctx, s)
	switch {
	case err == nil || classify(err) == duplicate:
		return settledDone
	case classify(err) == gone:
		return settledGone
	}
	w.st.expired.Add(1)
	log.Error("worker: aborted before the Horde took a result", "error", err)
	return settledFailed
}

// attempt uploads the result if it has an R2 URL and is not uploaded yet, then submits it.
func (w *Worker) attempt(ctx context.Context, s *submission) error {
	if s.uploadURL != "" && !s.uploaded {
		if err := w.uploadR2(ctx, s.uploadURL, s.upload); err != nil {
			w.st.uploadErrors.Add(1)
			return err
		}
		s.uploaded = true
	}
	rw, err := s.send(horde.WithoutRetry(ctx))
	if err != nil {
		return err
	}
	w.st.submitted.Add(1)
	w.st.addKudos(rw)
	w.observe(Event{Type: EventSubmitted, Kind: s.kind, Kudos: rw})
	return nil
}

// uploadR2 PUTs data to a presigned R2 URL: the raw bytes, no Content-Type (the signature
// covers the headers), no API key, within UploadTimeout.
func (w *Worker) uploadR2(ctx context.Context, url string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.s.UploadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("R2 upload: %w", err)
	}
	resp, err := w.uploads().Do(req)
	if err != nil {
		return fmt.Errorf("R2 upload: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		// Classified as retry: an R2 failure is transient from the worker's point of view.
		return fmt.Errorf("R2 upload: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}

// censoredImage is what a censored image is replaced with: a small black WebP.
var censoredImage = sync.OnceValue(func() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, img, nil); err != nil {
		return nil
	}
	return buf.Bytes()
})
