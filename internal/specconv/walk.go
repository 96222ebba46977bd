package specconv

import (
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
)

// schemaVisitor is called once for every schema reference of the document. loc names the place
// in a form that stays stable across upstream releases: `Definition.property`, with `[]` for array
// items and `{}` for map values; properties of allOf parts count as properties of the definition.
// Operation schemas are named `METHOD /path param` or `METHOD /path STATUS`.
type schemaVisitor func(loc string, ref *openapi2.SchemaRef)

// walkSchemas visits every schema reference of doc in a deterministic order. It does not follow
// $ref: a referenced definition is visited once, under its own name.
func walkSchemas(doc *openapi2.T, visit schemaVisitor) {
	for _, name := range sortedKeys(doc.Definitions) {
		walkSchemaRef(name, doc.Definitions[name], visit)
	}
	forEachOperation(doc, func(method, path string, op *openapi2.Operation) {
		prefix := method + " " + path
		for _, p := range op.Parameters {
			if p.Schema != nil {
				walkSchemaRef(prefix+" "+p.Name, p.Schema, visit)
			}
		}
		if op.Responses == nil {
			return
		}
		responses := op.Responses.Map()
		for _, status := range sortedKeys(responses) {
			if r := responses[status]; r != nil && r.Schema != nil {
				walkSchemaRef(prefix+" "+status, r.Schema, visit)
			}
		}
	})
}

func walkSchemaRef(loc string, ref *openapi2.SchemaRef, visit schemaVisitor) {
	if ref == nil {
		return
	}
	visit(loc, ref)
	s := ref.Value
	if ref.Ref != "" || s == nil {
		return
	}
	for _, part := range s.AllOf {
		walkSchemaRef(loc, part, visit)
	}
	for _, name := range sortedKeys(s.Properties) {
		walkSchemaRef(loc+"."+name, s.Properties[name], visit)
	}
	walkSchemaRef(loc+"[]", s.Items, visit)
	// additionalProperties are parsed into openapi3 schemas by kin-openapi; the upstream document
	// has none that a fix-up needs to visit.
	walkSchemaRef(loc+"!", s.Not, visit)
}

// httpMethods lists the methods the AI Horde uses, in the order operations are visited.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// forEachOperation calls fn for every operation, sorted by path then method.
func forEachOperation(doc *openapi2.T, fn func(method, path string, op *openapi2.Operation)) {
	for _, path := range sortedKeys(doc.Paths) {
		item := doc.Paths[path]
		for _, method := range httpMethods {
			if op := item.GetOperation(method); op != nil {
				fn(method, path, op)
			}
		}
	}
}

// operation returns the operation at method and path, or nil.
func operation(doc *openapi2.T, method, path string) *openapi2.Operation {
	item := doc.Paths[path]
	if item == nil {
		return nil
	}
	return item.GetOperation(strings.ToUpper(method))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// definitionRef is the $ref string of a definition of a Swagger 2.0 document.
func definitionRef(name string) string { return "#/definitions/" + name }
