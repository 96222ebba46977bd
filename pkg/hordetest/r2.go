package hordetest

import (
	"io"
	"net/http"
	"strconv"
)

// r2Check verifies a presigned URL; it answers like S3 when the signature or expiry is bad.
func (s *Server) r2Check(w http.ResponseWriter, r *http.Request, method string) (string, bool) {
	object := r.PathValue("object")
	exp, err := strconv.ParseInt(r.URL.Query().Get("X-Hordetest-Exp"), 10, 64)
	if err != nil || r.URL.Query().Get("X-Amz-Signature") != s.r2Sign(method, object, exp) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<Error><Code>SignatureDoesNotMatch</Code></Error>")
		return "", false
	}
	if s.clock.Now().Unix() > exp {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
		return "", false
	}
	return object, true
}

func (s *Server) handleR2Upload(w http.ResponseWriter, r *http.Request) {
	object, ok := s.r2Check(w, r, http.MethodPut)
	if !ok {
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.r2[object] = data
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleR2Download(w http.ResponseWriter, r *http.Request) {
	object, ok := s.r2Check(w, r, http.MethodGet)
	if !ok {
		return
	}
	s.mu.Lock()
	data, found := s.r2[object]
	s.mu.Unlock()
	if !found {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<Error><Code>NoSuchKey</Code></Error>")
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
