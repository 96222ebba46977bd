package hordetest

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// seedToInt turns a seed text into the server's integer seed.
func seedToInt(s string) uint64 {
	v := new(big.Int)
	if _, ok := v.SetString(s, 10); !ok || v.Sign() < 0 {
		b := []byte(s)
		rev := make([]byte, len(b))
		for i := range b {
			rev[len(b)-1-i] = b[i]
		}
		v.SetBytes(rev) // little-endian bytes
	}
	lim := new(big.Int).Lsh(big.NewInt(1), 32)
	for v.Cmp(lim) >= 0 {
		v.Rsh(v, 32)
	}
	return v.Uint64()
}

func accurateSteps(sampler string, steps int) int {
	switch sampler {
	case "k_dpm_adaptive":
		return 40
	case "k_heun", "k_dpm_2", "k_dpm_2_a", "k_dpmpp_2s_a", "k_dpmpp_sde":
		return steps * 2
	}
	return steps
}

// round2 is Python's round(x, 2): correctly rounded, ties to even.
func round2(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return v
}

// pyRound is Python's round(x): ties to even.
func pyRound(x float64) float64 { return math.RoundToEven(x) }

// baselineByName guesses the kudos multiplier of a model the reference does not know from its name.
func baselineByName(model string) float64 {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "qwen"):
		return 12
	case strings.Contains(m, "flux"), strings.Contains(m, "z_image"), strings.Contains(m, "z-image"):
		return 8
	case strings.Contains(m, "cascade"):
		return 4
	case strings.Contains(m, "sdxl"), strings.Contains(m, " xl"):
		return 2
	}
	return 1
}

// imageKudos is the per-job kudos K of a request (the server's documented fallback formula).
func imageKudos(r *request) float64 {
	res := math.Pow(float64(r.width*r.height-64*64), 1.75) / math.Pow(float64(1024*1024-64*64), 1.75)
	k := round2(0.1232*float64(r.steps) + res*(0.1232*float64(r.steps)*8.75))
	for i := 0; i < r.postProcessors; i++ {
		k = round2(k * 1.2)
	}
	if r.controlType != "" && !deref(r.root.ReturnControlMap, false) {
		k = round2(k * 3)
	}
	k += 3 * float64(len(r.root.Loras))
	if len(r.root.Tis) > 0 {
		k++
	}
	return k
}

// burn is the requester's charge f(x) for a job reward x.
func burn(r *request, x float64) float64 {
	if r.sourceImage != "" {
		x *= 1.3
	}
	x++
	if !r.slowWorkers {
		x *= 1.2
	}
	if r.workerBlacklist {
		x *= 1.1
	}
	return x
}

func (r *request) things() float64 {
	if r.kind == kindText {
		return float64(r.maxLength)
	}
	return float64(r.width * r.height * accurateSteps(string(*r.root.SamplerName), r.steps))
}
