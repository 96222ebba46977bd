package specconv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
)

// enumName names one enum value set by a place where it occurs. Keying names by place rather
// than by values keeps a name stable when upstream adds a value (a new sampler, a new return
// code); if copies of one set drift apart, two sets claim the same name and conversion fails,
// so that a person decides.
type enumName struct {
	loc, name, description string
}

var enumNames = []enumName{
	{"GenerationInputStable.source_processing", "SourceProcessing", "How a source image is used."},
	{"ModelPayloadRootStable.control_type", "ControlType", "A ControlNet preprocessor."},
	{"ModelPayloadStyleStable.sampler_name", "SamplerName", "An image sampler."},
	{"ModelPayloadStyleStable.post_processing[]", "PostProcessor", "An image post-processor: an upscaler, a face fixer or another filter."},
	{"ModelPayloadStyleStable.workflow", "Workflow", "A custom image workflow."},
	{"ModelPayloadTextualInversionsStable.inject_ti", "TIInjection", "Where a textual inversion is injected."},
	{"RequestError.rc", "ReturnCode", "The AI Horde's return code for an error."},
	{"RequestSingleWarning.code", "WarningCode", "The code of a warning about a request."},
	{"Generation.state", "GenerationState", "The state of a finished generation."},
	{"GenerationMetadataStable.type", "MetadataType", "What an image generation's metadata entry is about."},
	{"GenerationMetadataStable.value", "MetadataValue", "What happened to the subject of an image generation's metadata entry."},
	{"GenerationMetadataKobold.type", "TextMetadataType", "What a text generation's metadata entry is about."},
	{"GenerationMetadataKobold.value", "TextMetadataValue", "What happened to the subject of a text generation's metadata entry."},
	{"SubmitInput.state", "SubmitState", "The state a worker reports for a generation it submits."},
	{"ActiveModel.type", "ModelType", "The kind of a model."},
	{"WorkerDetailsLite.type", "WorkerType", "The kind of a worker."},
	{"ModelInterrogationFormStable.name", "InterrogationFormName", "An alchemy (interrogation) form."},
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
		if ref.Ref != "" || s == nil || len(s.Enum) == 0 {
			return
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
		byLoc[e.loc] = e
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

// EnumSchemaNames returns the names of the enum schemas that Convert creates, sorted.
func EnumSchemaNames() []string {
	names := make([]string, 0, len(enumNames))
	for _, e := range enumNames {
		names = append(names, e.name)
	}
	sort.Strings(names)
	return names
}
