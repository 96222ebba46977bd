package hordetest

import (
	"net/http"
	"time"
)

func (s *Server) authLocked(r *http.Request, required bool, help string) (*user, *apiError) {
	key := r.Header.Get("apikey")
	if key == "" {
		if required {
			return nil, missingAPIKey(help)
		}
		key = AnonymousAPIKey
	}
	u := s.usersByKey[key]
	if u == nil {
		return nil, herr(http.StatusUnauthorized, "InvalidAPIKey", "No user matching sent API Key. Have you remembered to register at https://aihorde.net/register ?")
	}
	return u, nil
}

// waitingJobsLocked counts the user's waiting (not yet popped) jobs of a kind.
func (s *Server) waitingJobsLocked(u *user, kind string) int {
	n := 0
	for _, r := range s.queue {
		if r.user == u && r.kind == kind && !r.faulted {
			n += r.n
		}
	}
	return n
}

func (s *Server) activeThreadsLocked(kind string, now time.Time) int {
	t := 0
	for _, w := range s.workers {
		if w.kind == kind && w.online(now) && !w.maintenance {
			t += w.threads
		}
	}
	return t
}
