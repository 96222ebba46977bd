package comfyui

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ObjectInfo is ComfyUI's GET /object_info: every node class the server has, with its inputs and
// outputs. The backend reads from it what the server can run (node classes, model files,
// sampler names) and checks every graph against it before queueing.
type ObjectInfo map[string]NodeInfo

// NodeInfo describes one node class.
type NodeInfo struct {
	Input struct {
		Required map[string]json.RawMessage `json:"required"`
		Optional map[string]json.RawMessage `json:"optional"`
	} `json:"input"`
	Output     []string `json:"output"`
	OutputName []string `json:"output_name"`
}

// Has reports whether the server has a node class.
func (oi ObjectInfo) Has(class string) bool { _, ok := oi[class]; return ok }

// inputSpec is one input's declaration: a type name ("INT", "MODEL", …) or a list of choices,
// with options (default, min, max).
type inputSpec struct {
	typ     string
	choices []string
	min     *float64
	max     *float64
	def     any
}

func (oi ObjectInfo) input(class, name string) (inputSpec, bool, error) {
	n, ok := oi[class]
	if !ok {
		return inputSpec{}, false, nil
	}
	raw, ok := n.Input.Required[name]
	if !ok {
		if raw, ok = n.Input.Optional[name]; !ok {
			return inputSpec{}, false, nil
		}
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) == 0 {
		return inputSpec{}, true, fmt.Errorf("comfyui: object_info %s.%s: unexpected declaration", class, name)
	}
	var spec inputSpec
	if err := json.Unmarshal(parts[0], &spec.typ); err != nil {
		if err := json.Unmarshal(parts[0], &spec.choices); err != nil {
			return inputSpec{}, true, fmt.Errorf("comfyui: object_info %s.%s: unexpected type", class, name)
		}
		spec.typ = "COMBO"
	}
	if len(parts) > 1 {
		var opts struct {
			Min     *float64 `json:"min"`
			Max     *float64 `json:"max"`
			Default any      `json:"default"`
		}
		_ = json.Unmarshal(parts[1], &opts)
		spec.min, spec.max, spec.def = opts.Min, opts.Max, opts.Default
	}
	return spec, true, nil
}

// Choices returns the values a COMBO input accepts (checkpoint files, sampler names, …).
func (oi ObjectInfo) Choices(class, input string) []string {
	spec, ok, err := oi.input(class, input)
	if !ok || err != nil {
		return nil
	}
	return spec.choices
}

// defaultInputs fills every required input of a node class with its declared default (the
// first choice of a COMBO), but for the inputs named in links, which the caller links. ok is
// false when the class is missing or wants another link (an input no default can fill).
func (oi ObjectInfo) defaultInputs(class string, links ...string) (map[string]any, bool) {
	n, ok := oi[class]
	if !ok {
		return nil, false
	}
	out := map[string]any{}
	for name := range n.Input.Required {
		if slices.Contains(links, name) {
			continue
		}
		spec, _, err := oi.input(class, name)
		if err != nil {
			return nil, false
		}
		switch {
		case spec.typ == "COMBO" && len(spec.choices) > 0:
			out[name] = spec.choices[0]
		case spec.def != nil && (spec.typ == "INT" || spec.typ == "FLOAT" || spec.typ == "BOOLEAN" || spec.typ == "STRING"):
			v := spec.def
			if f, isNum := v.(float64); isNum && spec.typ == "INT" {
				v = int64(f)
			}
			out[name] = v
		default:
			return nil, false
		}
	}
	return out, true
}

// singleImageInput is the name of a node's one required IMAGE input, "" when it has none or
// several.
func (oi ObjectInfo) singleImageInput(class string) string {
	found := ""
	for name := range oi[class].Input.Required {
		if spec, _, err := oi.input(class, name); err == nil && spec.typ == "IMAGE" {
			if found != "" {
				return ""
			}
			found = name
		}
	}
	return found
}

// Validate checks a graph as ComfyUI's own validation would: known node classes, every
// required input given, no unknown input, literal values of the declared type, within bounds
// and among the choices, and links to an existing node's output of the declared type.
func (oi ObjectInfo) Validate(g Graph) error {
	var errs []error
	bad := func(id string, n Node, format string, args ...any) {
		errs = append(errs, fmt.Errorf("node %s (%s): %s", id, n.ClassType, fmt.Sprintf(format, args...)))
	}
	for _, id := range g.ids() {
		n := g[id]
		info, ok := oi[n.ClassType]
		if !ok {
			bad(id, n, "no such node class")
			continue
		}
		for name := range info.Input.Required {
			if _, ok := n.Inputs[name]; !ok {
				bad(id, n, "required input %q is missing", name)
			}
		}
		for _, name := range sortedKeys(n.Inputs) {
			spec, ok, err := oi.input(n.ClassType, name)
			switch {
			case err != nil:
				errs = append(errs, err)
				continue
			case !ok:
				bad(id, n, "unknown input %q", name)
				continue
			}
			if l, isLink := n.Inputs[name].(Link); isLink {
				src, ok := g[l.Node]
				if !ok {
					bad(id, n, "input %q links to missing node %s", name, l.Node)
					continue
				}
				outs := oi[src.ClassType].Output
				if l.Output < 0 || l.Output >= len(outs) {
					bad(id, n, "input %q links to output %d of %s, which has %d", name, l.Output, src.ClassType, len(outs))
					continue
				}
				if spec.typ != "*" && outs[l.Output] != spec.typ && !(spec.typ == "COMBO" && outs[l.Output] == "COMBO") {
					bad(id, n, "input %q wants %s, got %s from node %s", name, spec.typ, outs[l.Output], l.Node)
				}
				continue
			}
			if err := checkValue(spec, n.Inputs[name]); err != nil {
				bad(id, n, "input %q: %v", name, err)
			}
		}
	}
	return errors.Join(errs...)
}

func checkValue(spec inputSpec, v any) error {
	num := func() (float64, bool) {
		switch x := v.(type) {
		case int:
			return float64(x), true
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		case float64:
			return x, true
		}
		return 0, false
	}
	switch spec.typ {
	case "COMBO":
		s, ok := v.(string)
		if !ok || !slices.Contains(spec.choices, s) {
			return fmt.Errorf("%v is not one of %s", v, strings.Join(firstN(spec.choices, 8), ", "))
		}
	case "INT", "FLOAT":
		x, ok := num()
		if !ok {
			return fmt.Errorf("%v is not a number", v)
		}
		if spec.typ == "INT" && x != math.Trunc(x) {
			return fmt.Errorf("%v is not an integer", v)
		}
		if spec.min != nil && x < *spec.min {
			return fmt.Errorf("%v is below the minimum %v", v, *spec.min)
		}
		if spec.max != nil && x > *spec.max {
			return fmt.Errorf("%v is above the maximum %v", v, *spec.max)
		}
	case "STRING":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%v is not a string", v)
		}
	case "BOOLEAN":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%v is not a boolean", v)
		}
	default:
		return fmt.Errorf("a %s input must be a link, got the value %v", spec.typ, v)
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return append(slices.Clone(xs[:n]), "…")
	}
	return xs
}
