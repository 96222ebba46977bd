package hordetest

import (
	"math"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

// parseTimeoutIP reads an address or a CIDR as the server's is_valid_ip does. A CIDR with
// host bits set or a bad prefix length makes the server's ipaddress call raise an unhandled
// error (500).
func parseTimeoutIP(s string) (netip.Prefix, bool, *apiError) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if _, aerr := netip.ParseAddr(s[:i]); aerr == nil {
				return netip.Prefix{}, false, internalError() // a bad netmask is not caught either
			}
			return netip.Prefix{}, false, herr(http.StatusBadRequest, "BadRequest", "Invalid IP Address")
		}
		if p.Masked() != p {
			return netip.Prefix{}, false, internalError()
		}
		return p, true, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false, herr(http.StatusBadRequest, "BadRequest", "Invalid IP Address")
	}
	return netip.PrefixFrom(a, a.BitLen()), false, nil
}

// ttlSeconds is what Redis's TTL reports for a timeout ending at until.
func ttlSeconds(until, now time.Time) int {
	return int(math.Round(until.Sub(now).Seconds()))
}

// ipTimeoutLocked is the seconds left of the timeout of an address, directly or through a
// CIDR block (0: none).
func (s *Server) ipTimeoutLocked(ip string, now time.Time) int {
	if until, ok := s.ext.ipTimeouts[ip]; ok {
		if until.After(now) {
			return ttlSeconds(until, now)
		}
		delete(s.ext.ipTimeouts, ip)
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return 0
	}
	for _, b := range s.blockTimeoutsLocked(now) {
		if p, err := netip.ParsePrefix(b.Ipaddr); err == nil && p.Contains(a.Unmap()) {
			return b.Seconds
		}
	}
	return 0
}

// blockTimeoutsLocked lists the CIDR timeouts still running, by address.
func (s *Server) blockTimeoutsLocked(now time.Time) []gen.IPTimeout {
	out := []gen.IPTimeout{}
	for cidr, until := range s.ext.blockTimeouts {
		if !until.After(now) {
			delete(s.ext.blockTimeouts, cidr)
			continue
		}
		out = append(out, gen.IPTimeout{Ipaddr: cidr, Seconds: ttlSeconds(until, now)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ipaddr < out[j].Ipaddr })
	return out
}

// timeoutIPError is the 403 a client or worker gets from an address in timeout.
func timeoutIPError(ttl int) *apiError {
	msg := "Due to abuse prevention, your IP address has been put into timeout for " + strconv.Itoa(ttl) +
		" more seconds. Please try again later, or contact us on discord if you think this was an error."
	if ttl > 60*60*24*4 {
		msg = "Due to abuse prevention, your IP address has been put into timeout. Please try again later, or contact us on discord if you think this was an error."
	}
	return herr(http.StatusForbidden, "TimeoutIP", msg)
}

// checkIPLocked answers 403 TimeoutIP when the request's address is in timeout.
func (s *Server) checkIPLocked(r *http.Request, now time.Time) *apiError {
	if ttl := s.ipTimeoutLocked(clientIP(r), now); ttl > 0 {
		return timeoutIPError(ttl)
	}
	return nil
}

// reportIPSuspicionLocked is the server's countermeasure for a corrupt prompt: each report
// puts the address into a longer timeout (3, 9, 15, … minutes).
func (s *Server) reportIPSuspicionLocked(ip string, now time.Time) {
	n := s.ext.ipSuspicion[ip]
	s.ext.ipSuspicion[ip] = n + 1
	s.ext.ipTimeouts[ip] = now.Add(time.Duration((2*n+1)*3) * time.Minute)
}

func (s *Server) handleIPTimeouts(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	return http.StatusOK, s.blockTimeoutsLocked(s.clock.Now())
}

// timeoutIPInput checks the ipaddr of an IP-timeout body and the presence of the mod key, in
// the server's order, and says whether the address is a block (CIDR).
func timeoutIPInput(r *http.Request, ipaddr string) (block bool, e *apiError) {
	if e := strLen("ipaddr", &ipaddr, 7, 40); e != nil {
		return false, e
	}
	if r.Header.Get("apikey") == "" {
		return false, missingAPIKey("A mod API key.")
	}
	_, block, e = parseTimeoutIP(ipaddr)
	return block, e
}

func (s *Server) handleIPTimeoutAdd(r *http.Request) (int, any) {
	var in gen.AddTimeoutIPInput
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	for _, k := range []string{"hours", "ipaddr"} {
		if !hasKey(raw, k) {
			return 0, validationErr(k, pyRepr(k)+" is a required property")
		}
	}
	if e := intRange("hours", in.Hours, 1, 720); e != nil {
		return 0, e
	}
	block, ae := timeoutIPInput(r, in.Ipaddr)
	if ae != nil {
		return 0, ae
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	until := s.clock.Now().Add(time.Duration(in.Hours) * time.Hour)
	if block { // kept as written, as the server's Redis key is
		s.ext.blockTimeouts[in.Ipaddr] = until
	} else {
		s.ext.ipTimeouts[in.Ipaddr] = until
	}
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

func (s *Server) handleIPTimeoutDelete(r *http.Request) (int, any) {
	var in gen.DeleteTimeoutIPInput
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	if !hasKey(raw, "ipaddr") {
		return 0, validationErr("ipaddr", "'ipaddr' is a required property")
	}
	block, ae := timeoutIPInput(r, in.Ipaddr)
	if ae != nil {
		return 0, ae
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	if block {
		delete(s.ext.blockTimeouts, in.Ipaddr)
	} else {
		delete(s.ext.ipTimeouts, in.Ipaddr)
		delete(s.ext.ipSuspicion, in.Ipaddr)
	}
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

func (s *Server) handleIPTimeoutSingle(r *http.Request) (int, any) {
	ip := r.PathValue("ipaddr")
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey("A mod API key.")
	}
	_, block, ae := parseTimeoutIP(ip)
	if ae != nil {
		return 0, ae
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.modLocked(r); ae != nil {
		return 0, ae
	}
	now := s.clock.Now()
	blocks := s.blockTimeoutsLocked(now)
	out := []gen.IPTimeout{}
	if block && len(blocks) > 0 {
		return 0, internalError() // a CIDR is not an address to look up in the blocks
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		for _, b := range blocks {
			if p, err := netip.ParsePrefix(b.Ipaddr); err == nil && p.Contains(a.Unmap()) {
				out = append(out, b)
			}
		}
	}
	if until, ok := s.ext.ipTimeouts[ip]; ok && until.After(now) {
		out = append(out, gen.IPTimeout{Ipaddr: ip, Seconds: ttlSeconds(until, now)})
	}
	return http.StatusOK, out
}

// workerBlockLocked finds the path's worker for a moderator and the address or IPv6 /64 its
// IP is blocked under.
func (s *Server) workerBlockLocked(r *http.Request) (string, bool, *apiError) {
	if _, ae := s.modLocked(r); ae != nil {
		return "", false, ae
	}
	w := s.workers[r.PathValue("worker_id")]
	if w == nil {
		return "", false, workerNotFound(r.PathValue("worker_id"))
	}
	if a, err := netip.ParseAddr(w.ip); err == nil && a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String(), true, nil
	}
	return w.ip, false, nil
}

func (s *Server) handleBlockWorkerIP(r *http.Request) (int, any) {
	var in gen.AddWorkerTimeout
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	if !hasKey(raw, "days") {
		return 0, validationErr("days", "'days' is a required property")
	}
	if e := intRange("days", in.Days, 1, 30); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ip, block, ae := s.workerBlockLocked(r)
	if ae != nil {
		return 0, ae
	}
	until := s.clock.Now().Add(time.Duration(in.Days) * 24 * time.Hour)
	if block {
		s.ext.blockTimeouts[ip] = until
	} else {
		s.ext.ipTimeouts[ip] = until
	}
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

func (s *Server) handleUnblockWorkerIP(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ip, block, ae := s.workerBlockLocked(r)
	if ae != nil {
		return 0, ae
	}
	if block {
		delete(s.ext.blockTimeouts, ip)
	}
	delete(s.ext.ipTimeouts, ip)
	delete(s.ext.ipSuspicion, ip)
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}
