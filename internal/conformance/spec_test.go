package conformance_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/api"
	"github.com/horde-go/horde/gen"
)

// operation is one operation of the converted document.
type operation struct {
	ID, Method, Path string
}

var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	return openapi3.NewLoader().LoadFromData(api.OpenAPI)
})

func operations(t *testing.T) []operation {
	t.Helper()
	doc, err := loadSpec()
	require.NoError(t, err)
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, operation{ID: op.OperationID, Method: method, Path: path})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path+ops[i].Method < ops[j].Path+ops[j].Method })
	return ops
}

// normalized is an operationId or Go method name reduced to lower-case letters and digits.
func normalized(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "_", ""))
}

// clientMethod finds the ClientWithResponses method of an operation.
func clientMethod(t *testing.T, c *gen.ClientWithResponses, opID string) reflect.Value {
	t.Helper()
	want := normalized(opID) + "withresponse"
	typ := reflect.TypeOf(c)
	for i := range typ.NumMethod() {
		if normalized(typ.Method(i).Name) == want {
			return reflect.ValueOf(c).Method(i)
		}
	}
	t.Fatalf("gen.ClientWithResponses has no method for operation %s", opID)
	return reflect.Value{}
}

// TestEveryOperationHasAClientMethod checks that the 90 operations of the upstream document all
// reached the generated client, under names derived from their operationIds.
func TestEveryOperationHasAClientMethod(t *testing.T) {
	var upstream struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(api.Swagger, &upstream))
	count := 0
	for _, item := range upstream.Paths {
		for method := range item {
			if method != "parameters" {
				count++
			}
		}
	}
	require.Equal(t, 90, count, "operations in api/swagger.json")

	ops := operations(t)
	require.Len(t, ops, count, "operations in api/openapi.yaml")
	c, err := gen.NewClientWithResponses("http://127.0.0.1/api/")
	require.NoError(t, err)
	iface := reflect.TypeFor[gen.ClientInterface]()
	seen := map[string]bool{}
	for _, op := range ops {
		require.False(t, seen[op.ID], "operationId %s is not unique", op.ID)
		seen[op.ID] = true
		clientMethod(t, c, op.ID)
		found := false
		for i := range iface.NumMethod() {
			if normalized(iface.Method(i).Name) == normalized(op.ID) {
				found = true
			}
		}
		require.True(t, found, "gen.ClientInterface has no method for %s %s (%s)", op.Method, op.Path, op.ID)
	}
}

// callOperation calls the client method of op with zero arguments against a server that
// answers every request with status and body, and returns the parsed response struct.
func callOperation(t *testing.T, c *gen.ClientWithResponses, op operation) (reflect.Value, error) {
	t.Helper()
	m := clientMethod(t, c, op.ID)
	mt := m.Type()
	args := make([]reflect.Value, 0, mt.NumIn())
	for i := range mt.NumIn() {
		in := mt.In(i)
		if mt.IsVariadic() && i == mt.NumIn()-1 {
			break
		}
		if in == reflect.TypeFor[context.Context]() {
			args = append(args, reflect.ValueOf(context.Background()))
			continue
		}
		if in.Kind() == reflect.String {
			args = append(args, reflect.ValueOf("x").Convert(in))
			continue
		}
		args = append(args, reflect.Zero(in))
	}
	out := m.Call(args)
	if err, _ := out[1].Interface().(error); err != nil {
		return reflect.Value{}, err
	}
	return out[0].Elem(), nil
}

// requestBodyType returns the JSON request body type of op's client method, or nil.
func requestBodyType(t *testing.T, c *gen.ClientWithResponses, op operation) reflect.Type {
	t.Helper()
	mt := clientMethod(t, c, op.ID).Type()
	// The body is the last fixed argument that is neither the context, a path parameter
	// (string) nor a parameters struct (pointer); its Go name is an alias, so match by kind.
	for i := mt.NumIn() - 2; i > 0; i-- {
		switch in := mt.In(i); in.Kind() {
		case reflect.Struct, reflect.Slice, reflect.Map:
			return in
		}
	}
	return nil
}

// statusField is the field of a parsed response that holds the body of an HTTP status.
func statusField(status int) string { return "JSON" + strconv.Itoa(status) }
