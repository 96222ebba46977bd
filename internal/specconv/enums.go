package specconv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
)

// enumName names one enum value set by the places where upstream copies it. Keying names by
// place rather than by values keeps a name stable when upstream adds a value (a new sampler, a
// new return code). If the copies drift apart (upstream adds a value to one of them), two sets
// claim one name and hoisting fails, so that a person decides.
type enumName struct {
	name, description string
	locs              []string
}

var enumNames = []enumName{
	{"SourceProcessing", "How a source image is used.",
		[]string{"GenerationInputStable.source_processing", "GenerationPayloadStable.source_processing"}},
	{"ControlType", "A ControlNet preprocessor.",
		[]string{"ModelPayloadRootStable.control_type"}},
	{"SamplerName", "An image sampler.",
		[]string{"ModelPayloadStyleStable.sampler_name", "ModelStyleInputParamsStableNoDefaults.sampler_name"}},
	{"PostProcessor", "An image post-processor: an upscaler, a face fixer or another filter.",
		[]string{"ModelPayloadStyleStable.post_processing[]", "ModelStyleInputParamsStableNoDefaults.post_processing[]"}},
	{"Workflow", "A custom image workflow.",
		[]string{"ModelPayloadStyleStable.workflow", "ModelStyleInputParamsStableNoDefaults.workflow"}},
	{"TIInjection", "Where a textual inversion is injected.",
		[]string{"ModelPayloadTextualInversionsStable.inject_ti"}},
	{"ReturnCode", "The AI Horde's return code for an error.",
		[]string{"RequestError.rc"}},
	{"WarningCode", "The code of a warning about a request.",
		[]string{"RequestSingleWarning.code"}},
	{"GenerationState", "The state of a finished generation.",
		[]string{"Generation.state"}},
	{"MetadataType", "What an image generation's metadata entry is about.",
		[]string{"GenerationMetadataStable.type"}},
	{"MetadataValue", "What happened to the subject of an image generation's metadata entry.",
		[]string{"GenerationMetadataStable.value"}},
	{"TextMetadataType", "What a text generation's metadata entry is about.",
		[]string{"GenerationMetadataKobold.type"}},
	{"TextMetadataValue", "What happened to the subject of a text generation's metadata entry.",
		[]string{"GenerationMetadataKobold.value"}},
	{"SubmitState", "The state a worker reports for a generation it submits.",
		[]string{"SubmitInput.state"}},
	{"ModelType", "The kind of a model.",
		[]string{"ActiveModel.type", "ResponseModelCollection.type", "ResponseModelStylesUser.type"}},
	{"WorkerType", "The kind of a worker.",
		[]string{"WorkerDetailsLite.type"}},
	{"InterrogationFormName", "An alchemy (interrogation) form.",
		[]string{"ModelInterrogationFormStable.name", "InterrogationPopInput.forms[]", "InterrogationPopFormPayload.form"}},
}

// hoistEnums replaces every inline enum by a reference to one definition per value set.
// A value set that no entry of enumNames names is an error: the table must name every set, so
// that generated type names never depend on the order of the document.
func hoistEnums(doc *openapi2.T) (int, error) {
	type valueSet struct {
		schema *openapi2.Schema
		refs   []*openapi2.SchemaRef
		locs   []string
	}
	sets := map[string]*valueSet{}
	var order []string
	walkSchemas(doc, func(loc string, ref *openapi2.SchemaRef) {
		s := ref.Value
		if ref.Ref != "" || s == nil || len(s.Enum) == 0 || isEnumName(loc) {
			return // not an inline enum, or one this fix-up made
		}
		key := fmt.Sprintf("%q|%v", s.Type.Slice(), s.Enum)
		set := sets[key]
		if set == nil {
			set = &valueSet{schema: s}
			sets[key] = set
			order = append(order, key)
		}
		set.refs = append(set.refs, ref)
		set.locs = append(set.locs, loc)
	})

	byLoc := map[string]enumName{}
	for _, e := range enumNames {
		for _, loc := range e.locs {
			byLoc[loc] = e
		}
	}
	claimed := map[string]string{} // name → the first place that claimed it
	n := 0
	for _, key := range order {
		set := sets[key]
		var named *enumName
		for _, loc := range set.locs {
			if e, ok := byLoc[loc]; ok {
				if named != nil && named.name != e.name {
					return n, fmt.Errorf("enum at %s is claimed by both %s and %s", loc, named.name, e.name)
				}
				named = &e
			}
		}
		if named == nil {
			return n, fmt.Errorf("enum %v at %s has no name: add it to enumNames", set.schema.Enum, strings.Join(set.locs, ", "))
		}
		if first, ok := claimed[named.name]; ok {
			return n, fmt.Errorf("enum name %s claimed by two different value sets (at %s and %s): upstream copies drifted apart",
				named.name, first, set.locs[0])
		}
		claimed[named.name] = set.locs[0]
		if _, ok := doc.Definitions[named.name]; ok {
			return n, fmt.Errorf("enum name %s collides with an upstream definition", named.name)
		}
		doc.Definitions[named.name] = &openapi2.SchemaRef{Value: &openapi2.Schema{
			Type:        set.schema.Type,
			Description: named.description,
			Enum:        set.schema.Enum,
		}}
		for _, ref := range set.refs {
			ref.Ref = definitionRef(named.name)
			ref.Value = nil
			n++
		}
	}
	return n, nil
}

func isEnumName(loc string) bool {
	for _, e := range enumNames {
		if e.name == loc {
			return true
		}
	}
	return false
}

// EnumSchemaNames returns the names of the enum schemas that Convert creates, sorted.
func EnumSchemaNames() []string {
	names := make([]string, 0, len(enumNames))
	for _, e := range enumNames {
		names = append(names, e.name)
	}
	sort.Strings(names)
	return names
}
