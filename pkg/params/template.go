package params

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
)

// Templates.
//
// A template is a partial parameter set: the same types as the concrete
// sets ([Image], [Text], [Alchemy]) whose every field is optional. A
// template is finalized by merging overrides into it (a set field of the
// overrides wins; slices and components are replaced whole, not merged),
// filling the server's documented defaults for the fields left unset, and
// validating the result. The finalized set carries a fingerprint.
//
// Decision on upstream: horde_sdk's finalization copies overrides without
// validating them; here finalization always validates.

// Finalized is a finalized, validated parameter set and its fingerprint.
type Finalized[T any] struct {
	// Params is the finalized, validated set.
	Params T
	// Fingerprint is the hex SHA-256 of the canonical JSON of Params,
	// prefixed with a schema tag; see [Fingerprint].
	Fingerprint string
}

// FinalizeImage merges overrides into template, fills the server defaults
// (width and height 512, steps 30 or 20 with ControlNet, cfg 5, sampler
// k_euler_a, scheduler karras, clip skip 1, batch size 1, tiling and
// transparent false) and validates the result. Neither input is modified.
func FinalizeImage(template, overrides *Image) (Finalized[Image], error) {
	img := deepCopy(template)
	if overrides != nil {
		mergeInto(reflect.ValueOf(&img).Elem(), reflect.ValueOf(deepCopy(overrides)))
	}
	if img.Width == nil {
		img.Width = Ptr(DefaultImageSide)
	}
	if img.Height == nil {
		img.Height = Ptr(DefaultImageSide)
	}
	if img.Steps == nil {
		img.Steps = Ptr(img.steps())
	}
	if img.CFGScale == nil {
		img.CFGScale = Ptr(DefaultImageCFG)
	}
	if img.Sampler == "" {
		img.Sampler = DefaultSampler
	}
	if img.Scheduler == "" {
		img.Scheduler = DefaultScheduler
	}
	if img.ClipSkip == nil {
		img.ClipSkip = Ptr(DefaultClipSkip)
	}
	if img.BatchSize == nil {
		img.BatchSize = Ptr(DefaultBatchSize)
	}
	if img.Tiling == nil {
		img.Tiling = Ptr(false)
	}
	if img.Transparent == nil {
		img.Transparent = Ptr(false)
	}
	if img.SourceProcessing == "" {
		img.SourceProcessing = img.EffectiveSourceProcessing()
	}
	if err := img.Validate(); err != nil {
		return Finalized[Image]{}, err
	}
	return finalize("image", img)
}

// FinalizeText merges overrides into template, fills the server defaults
// (n 1, max_context_length 2048, max_length 80) and validates the result.
// Sampling fields without a documented server default stay unset: the
// backend's defaults apply.
func FinalizeText(template, overrides *Text) (Finalized[Text], error) {
	t := deepCopy(template)
	if overrides != nil {
		mergeInto(reflect.ValueOf(&t).Elem(), reflect.ValueOf(deepCopy(overrides)))
	}
	if t.N == nil {
		t.N = Ptr(1)
	}
	if t.MaxContextLength == nil {
		t.MaxContextLength = Ptr(2048)
	}
	if t.MaxLength == nil {
		t.MaxLength = Ptr(80)
	}
	if err := t.Validate(); err != nil {
		return Finalized[Text]{}, err
	}
	return finalize("text", t)
}

// FinalizeAlchemy merges overrides into template (a set Source or Ops
// replaces the template's) and validates the result.
func FinalizeAlchemy(template, overrides *Alchemy) (Finalized[Alchemy], error) {
	a := deepCopy(template)
	if overrides != nil {
		mergeInto(reflect.ValueOf(&a).Elem(), reflect.ValueOf(deepCopy(overrides)))
	}
	if err := a.Validate(); err != nil {
		return Finalized[Alchemy]{}, err
	}
	return finalize("alchemy", a)
}

func finalize[T any](kind string, v T) (Finalized[T], error) {
	fp, err := Fingerprint(kind, v)
	if err != nil {
		return Finalized[T]{}, err
	}
	return Finalized[T]{Params: v, Fingerprint: fp}, nil
}

// fingerprintVersion changes whenever the canonical form changes.
const fingerprintVersion = "horde-go/params/v1"

// Fingerprint returns the hex SHA-256 of "horde-go/params/v1 <kind>\n"
// followed by the JSON encoding of v. encoding/json is deterministic:
// struct fields in declaration order, map keys sorted, floats in the
// shortest form that round-trips, bytes as standard base64, so the
// fingerprint is the same across runs and platforms for a given version of
// this package. It is not compatible with horde_sdk's fingerprints (whose
// payload shape and float formatting differ).
func Fingerprint(kind string, v any) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", fingerprintVersion, kind)
	if err := json.NewEncoder(h).Encode(v); err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// deepCopy returns a deep copy of *p (the zero value for nil) so that the
// finalized set shares no memory with its inputs.
func deepCopy[T any](p *T) T {
	var out T
	if p == nil {
		return out
	}
	copyValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(*p))
	return out
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		n := reflect.New(src.Type().Elem())
		copyValue(n.Elem(), src.Elem())
		dst.Set(n)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(n.Index(i), src.Index(i))
		}
		dst.Set(n)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		n := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			copyValue(v, it.Value())
			n.SetMapIndex(it.Key(), v)
		}
		dst.Set(n)
	case reflect.Struct:
		for i := range src.NumField() {
			copyValue(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}

// mergeInto sets every field of dst whose counterpart in src is set
// (non-zero). Value structs (such as TextFormat) merge field by field;
// pointers, slices and maps replace whole.
func mergeInto(dst, src reflect.Value) {
	for i := range src.NumField() {
		f := src.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[ImageData]() {
			mergeInto(dst.Field(i), f)
			continue
		}
		if !f.IsZero() {
			dst.Field(i).Set(f)
		}
	}
}
