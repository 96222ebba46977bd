package hordetest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/horde-go/horde/gen"
)

// finishImageJobLocked records a delivered image job: rewards, charges, stats.
func (s *Server) finishImageJobLocked(j *job, now time.Time) float64 {
	req := j.req
	j.state = jobDone
	j.submits++
	j.finishedAt = now
	reward := round2(req.perJob * s.modelBaseline(j.model))
	j.reward = reward
	credit := reward * grantsOf(j.worker).ImageKudosMultiplier
	if j.worker.builtin {
		credit = reward
	}
	if !j.worker.owner.Trusted {
		credit /= 2
	}
	j.worker.owner.Kudos += credit
	j.worker.owner.earned += credit
	j.worker.kudosEarned += credit
	j.worker.fulfilled++
	j.worker.uncompleted--
	s.creditTeamLocked(j.worker, credit)
	things := float64(req.width * req.height * accurateSteps(string(*req.root.SamplerName), req.steps))
	j.worker.things += things
	charge := burn(req, reward)
	if j.censored {
		charge = burn(req, 0)
	}
	s.chargeLocked(req, charge)
	req.charged += charge
	req.expiry = now.Add(s.cfg.expiry)
	s.stats.images++
	s.stats.ps += int(things)
	s.stats.imgModels[j.model]++
	return reward
}

// faultJobLocked marks a processing job faulted (reported or timed out) and requeues it.
func (s *Server) faultJobLocked(j *job) {
	if j.state != jobProcessing {
		return
	}
	req := j.req
	j.state = jobFaulted
	s.logAbortLocked(j.worker)
	j.worker.uncompleted--
	req.faultedJobs++
	finished := 0
	for _, x := range req.jobs {
		if x.state == jobDone {
			finished++
		}
	}
	if req.kind == kindText || finished < req.total {
		req.n++
		if req.n == 1 && !req.faulted {
			s.queue = append(s.queue, req)
			s.requeueSortLocked()
		}
	}
	if req.faultedJobs >= 3 {
		req.faulted = true
		s.compactQueueLocked()
	}
}

// requeueSortLocked keeps the queue in creation order after a re-insertion.
func (s *Server) requeueSortLocked() {
	for i := len(s.queue) - 1; i > 0 && s.queue[i].seq < s.queue[i-1].seq; i-- {
		s.queue[i], s.queue[i-1] = s.queue[i-1], s.queue[i]
	}
}

// statusOf computes the check/status counters of a request (1.7).
func (s *Server) statusOfLocked(req *request, now time.Time) statusCheck {
	finished, processing := 0, 0
	for _, j := range req.jobs {
		switch j.state {
		case jobDone:
			finished++
		case jobProcessing:
			processing++
		}
	}
	waiting := min(max(req.n, 0), max(req.total-processing-finished, 0))
	done := false
	switch {
	case req.faulted:
		done = true
	case req.n > 0:
		done = false
	default:
		done = finished+req.faultedJobs-processing >= req.total
	}
	qpos := 0
	var qthings float64
	qn := 0
	if req.n > 0 && !req.faulted {
		for i, r := range s.orderedQueueLocked(req.kind, now) {
			qthings += r.things() * float64(r.n)
			qn += r.n
			if r == req {
				qpos = i + 1
				break
			}
		}
	}
	wait := 0
	if qpos > 0 {
		threads := max(min(s.activeThreadsLocked(req.kind, now), qn), 1)
		wait = int(pyRound(qthings / 1e6 / float64(threads)))
	}
	possible := processing > 0 || s.hasValidWorkerLocked(req, now)
	return statusCheck{Done: done, Faulted: req.faulted, Finished: finished, IsPossible: possible,
		Kudos: pyRound(req.charged), Processing: processing, QueuePosition: qpos, Restarted: req.faultedJobs,
		WaitTime: wait, Waiting: waiting}
}

func (s *Server) lookupLocked(id, kind string) (*request, *apiError) {
	req := s.requests[id]
	if req == nil || req.kind != kind {
		return nil, herr(http.StatusNotFound, "RequestNotFound", "Request with ID '"+id+"' not found.")
	}
	return req, nil
}

// checkSubmitState validates the state a worker submits (image and text share the rule).
func checkSubmitState(state string) (int, any) {
	switch state {
	case "ok", "censored", "faulted", "csam":
		return 0, nil
	}
	return 0, validationErr("state", fmt.Sprintf("'%s' is not one of ['ok', 'censored', 'faulted', 'csam']", state))
}

// submittedJobLocked finds the job a worker submits, in the order of the server's shared submit
// template: an unknown id or one of another kind is 404 InvalidJobID; an unknown key is 500
// (a server quirk); another owner's worker is 403 WrongCredentials; a job already done is
// 400 DuplicateGen (200 with reward 0 for a worker in maintenance); an aborted one is 400
// AbortedGen. It counts the attempt. On refusal the job is nil and status, body the answer.
// The caller holds s.mu.
func (s *Server) submittedJobLocked(r *http.Request, id, kind string) (*job, int, any) {
	j := s.jobs[id]
	if j == nil || j.req.kind != kind {
		return nil, 0, herr(http.StatusNotFound, "InvalidJobID", "Processing Job with ID "+id+" does not exist.")
	}
	j.attempts++
	u := s.usersByKey[r.Header.Get("apikey")]
	if u == nil {
		return nil, http.StatusInternalServerError, map[string]any{"message": "Internal Server Error"}
	}
	if j.worker.owner != u {
		return nil, 0, herr(http.StatusForbidden, "WrongCredentials", "Wrong credentials to submit as this worker.")
	}
	switch j.state {
	case jobDone:
		if j.worker.maintenance {
			return nil, http.StatusOK, gen.GenerationSubmitted{Reward: ptr(0.0)}
		}
		return nil, 0, herr(http.StatusBadRequest, "DuplicateGen", "Processing Job with ID "+j.id+" already submitted.")
	case jobFaulted:
		return nil, 0, herr(http.StatusBadRequest, "AbortedGen", "Processing Job with ID "+j.id+" has already been aborted.")
	}
	return j, 0, nil
}
