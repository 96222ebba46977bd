package specconv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// swagger builds a minimal Swagger 2.0 document from definitions and paths (JSON objects).
func swagger(t *testing.T, definitions, paths string) *openapi2.T {
	t.Helper()
	if definitions == "" {
		definitions = "{}"
	}
	if paths == "" {
		paths = "{}"
	}
	src := `{"swagger":"2.0","info":{"title":"t","version":"1"},"basePath":"/api",` +
		`"definitions":` + definitions + `,"paths":` + paths + `}`
	var doc openapi2.T
	require.NoError(t, json.Unmarshal([]byte(src), &doc))
	return &doc
}

// op is a minimal operation with the given id, parameters and 200 schema.
func op(id, params, schema200 string) string {
	if params == "" {
		params = "[]"
	}
	resp := `{"description":"ok"}`
	if schema200 != "" {
		resp = `{"description":"ok","schema":` + schema200 + `}`
	}
	return `{"operationId":"` + id + `","parameters":` + params + `,"responses":{"200":` + resp + `}}`
}

func fixup(t *testing.T, name string) Fixup {
	t.Helper()
	for _, f := range Fixups() {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no fix-up %s", name)
	return Fixup{}
}

// apply runs the named fix-up on doc, checks it changed want places, and that a second run
// changes nothing (the defect is gone).
func apply(t *testing.T, name string, doc *openapi2.T, want int) {
	t.Helper()
	f := fixup(t, name)
	n, err := f.Apply(doc)
	require.NoError(t, err)
	require.Equal(t, want, n, "changes by %s", name)
	n, err = f.Apply(doc)
	if name == "hoist-enums" {
		// A second hoist finds the definitions it made, which are named: nothing inline is left.
		require.NoError(t, err)
	}
	require.Zero(t, n, "%s changed something on its second run", name)
}

func TestFixups(t *testing.T) {
	t.Run("rename-duplicate-operation-id", func(t *testing.T) {
		doc := swagger(t, "", `{
			"/v2/styles/image_by_name/{style_name}": {"get": `+op("get_single_image_style_by_name", "", "")+`},
			"/v2/styles/text_by_name/{style_name}": {"get": `+op("get_single_image_style_by_name", "", "")+`}}`)
		require.Error(t, checkUniqueOperationIDs(doc))
		apply(t, "rename-duplicate-operation-id", doc, 1)
		require.NoError(t, checkUniqueOperationIDs(doc))
		assert.Equal(t, "get_single_text_style_by_name", doc.Paths["/v2/styles/text_by_name/{style_name}"].Get.OperationID)
		assert.Equal(t, "get_single_image_style_by_name", doc.Paths["/v2/styles/image_by_name/{style_name}"].Get.OperationID)
	})

	t.Run("string-default-as-string", func(t *testing.T) {
		doc := swagger(t, `{"FilterPromptSuspicion":{"type":"object","properties":{
			"suspicion":{"type":"string","default":0},"ok":{"type":"string","default":"x"},"n":{"type":"integer","default":0}}}}`, "")
		apply(t, "string-default-as-string", doc, 1)
		props := doc.Definitions["FilterPromptSuspicion"].Value.Properties
		assert.Equal(t, "0", props["suspicion"].Value.Default)
		assert.Equal(t, "x", props["ok"].Value.Default)
		assert.EqualValues(t, 0, props["n"].Value.Default)
	})

	t.Run("drop-example-outside-enum", func(t *testing.T) {
		doc := swagger(t, `{"RequestError":{"type":"object","properties":{
			"rc":{"type":"string","enum":["A","B"],"example":"ExampleHordeError"},
			"ok":{"type":"string","enum":["A","B"],"example":"B"}}}}`, "")
		apply(t, "drop-example-outside-enum", doc, 1)
		props := doc.Definitions["RequestError"].Value.Properties
		assert.Nil(t, props["rc"].Value.Example)
		assert.Equal(t, "B", props["ok"].Value.Example)
	})

	t.Run("wildcard-to-map", func(t *testing.T) {
		doc := swagger(t, `{
			"Raw":{"type":"object","properties":{"*":{"type":"object","additionalProperties":{"type":"object"}}}},
			"Str":{"type":"object","properties":{"*":{"type":"object","additionalProperties":{"type":"string"}}}},
			"Plain":{"type":"object","properties":{"a":{"type":"string"}}}}`, "")
		apply(t, "wildcard-to-map", doc, 2)
		raw := doc.Definitions["Raw"].Value
		assert.Empty(t, raw.Properties)
		require.NotNil(t, raw.AdditionalProperties.Schema)
		assert.True(t, raw.AdditionalProperties.Schema.Value.Type.IsEmpty(), "a Raw wildcard holds any value")
		str := doc.Definitions["Str"].Value
		assert.True(t, str.AdditionalProperties.Schema.Value.Type.Is("string"))
		assert.Contains(t, doc.Definitions["Plain"].Value.Properties, "a")
	})

	t.Run("typed-model-stats", func(t *testing.T) {
		doc := swagger(t, `{
			"ImgModelStats":{"type":"object","properties":{"day":{"type":"object"},"month":{"type":"object"},"total":{"type":"object"}}},
			"TxtModelStats":{"type":"object","properties":{"day":{"type":"object"},"month":{"type":"object"},"total":{"type":"object"}}}}`, "")
		apply(t, "typed-model-stats", doc, 12)
		day := doc.Definitions["TxtModelStats"].Value.Properties["day"].Value
		assert.True(t, day.AdditionalProperties.Schema.Value.Type.Is("integer"))
		assert.Equal(t, []string{"day", "month", "total"}, doc.Definitions["ImgModelStats"].Value.Required)
	})

	t.Run("style-info-may-be-empty", func(t *testing.T) {
		doc := swagger(t, `{
			"ModelStyleInputStable":{"type":"object","properties":{"info":{"type":"string","minLength":10}}},
			"ModelStyleInputKobold":{"type":"object","properties":{"info":{"type":"string","minLength":10}}}}`, "")
		apply(t, "style-info-may-be-empty", doc, 2)
		assert.Zero(t, doc.Definitions["ModelStyleInputKobold"].Value.Properties["info"].Value.MinLength)
	})

	t.Run("filter-regex-may-be-absent", func(t *testing.T) {
		doc := swagger(t, `{"FilterRegex":{"type":"object","required":["filter_type","regex"],"properties":{"filter_type":{"type":"integer"},"regex":{"type":"string"}}}}`, "")
		apply(t, "filter-regex-may-be-absent", doc, 1)
		assert.Equal(t, []string{"filter_type"}, doc.Definitions["FilterRegex"].Value.Required)
	})

	t.Run("filter-single-is-object", func(t *testing.T) {
		doc := swagger(t, `{"FilterDetails":{"type":"object"}}`, `{"/v2/filters/{filter_id}":{"get":`+
			op("get_filter_single", "", `{"type":"array","items":{"$ref":"#/definitions/FilterDetails"}}`)+`}}`)
		apply(t, "filter-single-is-object", doc, 1)
		assert.Equal(t, "#/definitions/FilterDetails", response200(doc, "GET", "/v2/filters/{filter_id}").Schema.Ref)
	})

	t.Run("users-list-is-array", func(t *testing.T) {
		doc := swagger(t, `{"UserDetails":{"type":"object"}}`, `{"/v2/users":{"get":`+
			op("get_users", "", `{"$ref":"#/definitions/UserDetails"}`)+`}}`)
		apply(t, "users-list-is-array", doc, 1)
		s := response200(doc, "GET", "/v2/users").Schema.Value
		assert.True(t, s.Type.Is("array"))
		assert.Equal(t, "#/definitions/UserDetails", s.Items.Ref)
	})

	t.Run("heartbeat-schema", func(t *testing.T) {
		doc := swagger(t, "", `{"/v2/status/heartbeat":{"get":`+op("get_heartbeat", "", "")+`}}`)
		apply(t, "heartbeat-schema", doc, 1)
		assert.Equal(t, "#/definitions/Heartbeat", response200(doc, "GET", "/v2/status/heartbeat").Schema.Ref)
		assert.Len(t, doc.Definitions["Heartbeat"].Value.Properties, 6)
	})

	t.Run("dry-run-response", func(t *testing.T) {
		async := func(id string) string {
			return `{"operationId":"` + id + `","responses":{"202":{"description":"queued"}}}`
		}
		doc := swagger(t, "", `{"/v2/generate/async":{"post":`+async("post_async_generate")+`},
			"/v2/generate/text/async":{"post":`+async("post_async_text")+`}}`)
		apply(t, "dry-run-response", doc, 2)
		assert.Equal(t, "#/definitions/DryRunKudos", response200(doc, "POST", "/v2/generate/async").Schema.Ref)
		assert.Equal(t, []string{"kudos"}, doc.Definitions["DryRunKudos"].Value.Required)
	})

	t.Run("split-worker-message-models", func(t *testing.T) {
		doc := swagger(t, `{
			"ResponseModelMessagePop":{"type":"object","properties":{"id":{"type":"string"},"expiry":{"type":"string","format":"date-time"}}},
			"ResponseModelMessage":{"type":"object","properties":{"message":{"type":"string"},"expiry":{"type":"integer"}}}}`,
			`{"/v2/workers/messages":{"post":`+op("post_worker_messages",
				`[{"name":"payload","in":"body","required":true,"schema":{"$ref":"#/definitions/ResponseModelMessage"}}]`,
				`{"$ref":"#/definitions/ResponseModelMessage"}`)+`}}`)
		apply(t, "split-worker-message-models", doc, 2)
		post := doc.Paths["/v2/workers/messages"].Post
		assert.Equal(t, "#/definitions/InputModelMessage", post.Parameters[0].Schema.Ref)
		assert.Equal(t, "#/definitions/ResponseModelMessage", post.Responses.Value("200").Schema.Ref)
		assert.True(t, doc.Definitions["InputModelMessage"].Value.Properties["expiry"].Value.Type.Is("integer"))
		resp := doc.Definitions["ResponseModelMessage"].Value
		assert.Equal(t, "#/definitions/ResponseModelMessagePop", resp.AllOf[0].Ref)
		assert.Equal(t, "date-time", resp.AllOf[1].Value.Properties["created"].Value.Format)
	})

	t.Run("worker-details-messages-without-id", func(t *testing.T) {
		doc := swagger(t, `{"ResponseModelMessage":{"type":"object"},
			"WorkerDetails":{"allOf":[{"type":"object"},{"type":"object","properties":{"messages":{"type":"array","items":{"$ref":"#/definitions/ResponseModelMessage"}}}}]}}`, "")
		apply(t, "worker-details-messages-without-id", doc, 1)
		msgs := doc.Definitions["WorkerDetails"].Value.AllOf[1].Value.Properties["messages"].Value
		assert.Equal(t, "#/definitions/WorkerDetailsMessage", msgs.Items.Ref)
		assert.NotContains(t, doc.Definitions["WorkerDetailsMessage"].Value.Properties, "id")
	})

	t.Run("pop-answers-may-be-null", func(t *testing.T) {
		doc := swagger(t, `{"Extra":{"type":"object"},
			"GenerationPayloadStable":{"type":"object","properties":{"id":{"type":"string"},"extra_source_images":{"$ref":"#/definitions/Extra"}}},
			"GenerationPayloadKobold":{"type":"object","properties":{"ttl":{"type":"integer"}}}}`, "")
		apply(t, "pop-answers-may-be-null", doc, 3)
		props := doc.Definitions["GenerationPayloadStable"].Value.Properties
		assert.Equal(t, true, props["id"].Value.Extensions["x-nullable"])
		assert.Equal(t, "#/definitions/Extra", props["extra_source_images"].Value.AllOf[0].Ref, "a reference is wrapped to carry the flag")
		assert.Equal(t, true, doc.Definitions["GenerationPayloadKobold"].Value.Properties["ttl"].Value.Extensions["x-nullable"])
	})

	t.Run("proxy-passkey-is-22-characters", func(t *testing.T) {
		doc := swagger(t, `{"ModifyUser":{"type":"object","properties":{"proxy_passkey":{"type":"string","minLength":16,"maxLength":16}}}}`, "")
		apply(t, "proxy-passkey-is-22-characters", doc, 1)
		p := doc.Definitions["ModifyUser"].Value.Properties["proxy_passkey"].Value
		assert.Equal(t, uint64(22), p.MinLength)
		assert.Equal(t, uint64(22), *p.MaxLength)
	})

	t.Run("auth-headers-to-security", func(t *testing.T) {
		header := func(name string, required bool) string {
			return `{"name":"` + name + `","in":"header","type":"string","required":` + map[bool]string{true: "true", false: "false"}[required] + `}`
		}
		doc := swagger(t, "", `{
			"/required":{"get":`+op("req", "["+header("apikey", true)+","+header("Client-Agent", false)+","+header("X-Fields", false)+"]", "")+`},
			"/optional":{"get":`+op("opt", "["+header("apikey", false)+`,{"name":"q","in":"query","type":"string"}]`, "")+`},
			"/none":{"get":`+op("none", "["+header("Client-Agent", false)+","+header("Idempotency-Key", false)+"]", "")+`}}`)
		apply(t, "auth-headers-to-security", doc, 5)
		assert.Equal(t, openapi2.SecurityRequirements{{"apikey": {}}}, *doc.Paths["/required"].Get.Security)
		assert.Empty(t, doc.Paths["/required"].Get.Parameters)
		assert.Equal(t, openapi2.SecurityRequirements{{}, {"apikey": {}}}, *doc.Paths["/optional"].Get.Security)
		assert.Len(t, doc.Paths["/optional"].Get.Parameters, 1)
		assert.Empty(t, *doc.Paths["/none"].Get.Security)
		require.Len(t, doc.Paths["/none"].Get.Parameters, 1)
		assert.Equal(t, "Idempotency-Key", doc.Paths["/none"].Get.Parameters[0].Name)
		assert.Equal(t, "apikey", doc.SecurityDefinitions["apikey"].Name)
	})

	t.Run("find-user-requires-key", func(t *testing.T) {
		doc := swagger(t, "", `{"/v2/find_user":{"get":`+op("get_find_user",
			`[{"name":"apikey","in":"header","type":"string","required":false}]`, "")+`}}`)
		apply(t, "auth-headers-to-security", doc, 1)
		assert.Equal(t, openapi2.SecurityRequirements{{}, {"apikey": {}}}, *doc.Paths["/v2/find_user"].Get.Security)
		apply(t, "find-user-requires-key", doc, 1)
		assert.Equal(t, openapi2.SecurityRequirements{{"apikey": {}}}, *doc.Paths["/v2/find_user"].Get.Security)
	})

	t.Run("error-body-shape", func(t *testing.T) {
		doc := swagger(t, `{
			"RequestError":{"type":"object","required":["rc"],"properties":{"message":{"type":"string"},"rc":{"type":"string"}}},
			"RequestValidationError":{"allOf":[{"$ref":"#/definitions/RequestError"},{"type":"object","properties":{"errors":{"type":"object"}}}]}}`, "")
		apply(t, "error-body-shape", doc, 3)
		e := doc.Definitions["RequestError"].Value
		assert.Empty(t, e.Required)
		assert.True(t, e.Properties["errors"].Value.AdditionalProperties.Schema.Value.Type.Is("string"))
		assert.Equal(t, "#/definitions/RequestError", doc.Definitions["RequestValidationError"].Ref)
	})

	t.Run("default-error-response", func(t *testing.T) {
		doc := swagger(t, "", `{"/a":{"get":`+op("a", "", "")+`,"post":`+op("b", "", "")+`}}`)
		apply(t, "default-error-response", doc, 2)
		assert.Equal(t, "#/definitions/RequestError", doc.Paths["/a"].Get.Responses.Value("default").Schema.Ref)
	})

	t.Run("interrogate-submit-result-object", func(t *testing.T) {
		doc := swagger(t, "", `{"/v2/interrogate/submit":{"post":`+op("post_interrogate_submit",
			`[{"name":"payload","in":"body","required":true,"schema":{"type":"object","properties":{
				"id":{"type":"string"},"result":{"type":"string"},"state":{"type":"string"}}}}]`, "")+`}}`)
		apply(t, "interrogate-submit-result-object", doc, 1)
		result := doc.Paths["/v2/interrogate/submit"].Post.Parameters[0].Schema.Value.Properties["result"].Value
		assert.True(t, result.Type.Is("object"))
		assert.True(t, result.AdditionalProperties.Schema.Value.Type.IsEmpty(), "any JSON value per form")
	})

	t.Run("image-models-empty-means-any", func(t *testing.T) {
		doc := swagger(t, `{"GenerationInputStable":{"type":"object","properties":{
			"models":{"type":"array","items":{"type":"string"}}}}}`, "")
		apply(t, "image-models-empty-means-any", doc, 1)
		models := doc.Definitions["GenerationInputStable"].Value.Properties["models"].Value
		assert.Equal(t, false, models.Extensions["x-go-type-skip-optional-pointer"])
	})

	t.Run("return-codes-the-server-raises", func(t *testing.T) {
		doc := swagger(t, `{"RequestError":{"type":"object","properties":{"rc":{"type":"string","enum":["BadRequest","StyleNotFound"]}}}}`, "")
		apply(t, "return-codes-the-server-raises", doc, len(missingReturnCodes)-1)
		enum := doc.Definitions["RequestError"].Value.Properties["rc"].Value.Enum
		assert.Contains(t, enum, "IdempotencyKeyConflict")
		assert.Equal(t, "BadRequest", enum[0], "upstream values keep their order")
		assert.Len(t, enum, 1+len(missingReturnCodes))
	})

	t.Run("hoist-enums", func(t *testing.T) {
		sampler := `{"type":"string","enum":["k_euler","lcm"]}`
		doc := swagger(t, `{
			"ModelPayloadStyleStable":{"type":"object","properties":{"sampler_name":`+sampler+`,
				"post_processing":{"type":"array","items":{"type":"string","enum":["GFPGAN"]}}}},
			"ModelStyleInputParamsStableNoDefaults":{"type":"object","properties":{"sampler_name":`+sampler+`}}}`, "")
		apply(t, "hoist-enums", doc, 3)
		def := doc.Definitions["SamplerName"].Value
		assert.Equal(t, []any{"k_euler", "lcm"}, def.Enum)
		assert.Equal(t, "#/definitions/SamplerName",
			doc.Definitions["ModelStyleInputParamsStableNoDefaults"].Value.Properties["sampler_name"].Ref)
		assert.Equal(t, "#/definitions/PostProcessor",
			doc.Definitions["ModelPayloadStyleStable"].Value.Properties["post_processing"].Value.Items.Ref)
	})
}

func TestHoistEnumsRefusesUnnamedAndDriftedSets(t *testing.T) {
	unnamed := swagger(t, `{"X":{"type":"object","properties":{"colour":{"type":"string","enum":["red"]}}}}`, "")
	_, err := fixup(t, "hoist-enums").Apply(unnamed)
	require.ErrorContains(t, err, "X.colour")
	require.ErrorContains(t, err, "no name")

	// Upstream adds a sampler to one copy only: the two sets would both be SamplerName.
	drifted := swagger(t, `{
		"ModelPayloadStyleStable":{"type":"object","properties":{"sampler_name":{"type":"string","enum":["a","b"]}}},
		"ModelStyleInputParamsStableNoDefaults":{"type":"object","properties":{"sampler_name":{"type":"string","enum":["a"]}}}}`, "")
	_, err = fixup(t, "hoist-enums").Apply(drifted)
	require.ErrorContains(t, err, "drifted")
}

func TestStrictModeRejectsNoOpFixups(t *testing.T) {
	doc := `{"swagger":"2.0","info":{"title":"t","version":"1"},"definitions":{},
		"paths":{"/a":{"get":{"operationId":"a","responses":{"200":{"description":"ok"}}}}}}`
	noop := Fixup{Name: "noop", Defect: 99, Apply: func(*openapi2.T) (int, error) { return 0, nil }}

	res, err := Convert(context.Background(), []byte(doc), Options{Fixups: []Fixup{noop}})
	require.NoError(t, err)
	require.Equal(t, []Report{{Name: "noop", Defect: 99}}, res.Reports)

	_, err = Convert(context.Background(), []byte(doc), Options{Strict: true, Fixups: []Fixup{noop}})
	require.ErrorIs(t, err, ErrNoChange)
	require.ErrorContains(t, err, "noop")
}

func TestConvertRejectsInvalidOutput(t *testing.T) {
	// The upstream document without its fix-ups does not validate (defect 3).
	src, err := os.ReadFile("../../api/swagger.json")
	require.NoError(t, err)
	_, err = Convert(context.Background(), src, Options{Fixups: []Fixup{}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "duplicate operationIds")

	f := fixup(t, "rename-duplicate-operation-id")
	_, err = Convert(context.Background(), src, Options{Fixups: []Fixup{f}})
	require.ErrorContains(t, err, "does not validate")
}

// TestConvertUpstream converts the vendored document in strict mode: every fix-up applies, the
// output validates, two runs give the same bytes, and those are the committed api/openapi.yaml.
func TestConvertUpstream(t *testing.T) {
	src, err := os.ReadFile("../../api/swagger.json")
	require.NoError(t, err)
	first, err := Convert(context.Background(), src, Options{Strict: true})
	require.NoError(t, err)
	second, err := Convert(context.Background(), src, Options{Strict: true})
	require.NoError(t, err)
	require.True(t, bytes.Equal(first.YAML, second.YAML), "conversion is not deterministic")
	require.Len(t, first.Reports, len(Fixups()))
	for _, r := range first.Reports {
		require.Positive(t, r.Changes, r.Name)
	}

	committed, err := os.ReadFile("../../api/openapi.yaml")
	require.NoError(t, err)
	require.True(t, bytes.Equal(committed, first.YAML), "api/openapi.yaml is stale: run go generate ./...")

	doc := first.Doc
	require.NoError(t, doc.Validate(context.Background()))
	require.Equal(t, "/api", doc.Servers[0].URL)
	require.Contains(t, doc.Components.SecuritySchemes, SecuritySchemeName)
	for _, name := range EnumSchemaNames() {
		require.Contains(t, doc.Components.Schemas, name)
	}
	ops := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops++
			require.NotNil(t, op.Security, "%s %s has no security requirement", method, path)
			require.NotNil(t, op.Responses.Default(), "%s %s has no default response", method, path)
			for _, p := range op.Parameters {
				require.NotContains(t, []string{"apikey", "Client-Agent", "X-Fields"}, p.Value.Name, "%s %s", method, path)
			}
		}
	}
	require.Equal(t, 90, ops)
	security := func(method, path string) openapi3.SecurityRequirements {
		return *doc.Paths.Find(path).GetOperation(method).Security
	}
	require.Equal(t, openapi3.SecurityRequirements{{"apikey": {}}}, security("POST", "/v2/generate/async"))
	require.Equal(t, openapi3.SecurityRequirements{{}, {"apikey": {}}}, security("GET", "/v2/status/modes"))
	require.Empty(t, security("GET", "/v2/status/heartbeat"))
	require.Equal(t, openapi3.SecurityRequirements{{"apikey": {}}}, security("GET", "/v2/find_user"))
	kudos := doc.Paths.Find("/v2/kudos/transfer").Post
	require.NotNil(t, kudos.Parameters.GetByInAndName("header", "Idempotency-Key"))
}

func TestConvertErrors(t *testing.T) {
	_, err := Convert(context.Background(), []byte("{"), Options{})
	require.ErrorContains(t, err, "reading the Swagger document")

	broken := Fixup{Name: "broken", Apply: func(*openapi2.T) (int, error) { return 0, errors.New("boom") }}
	_, err = Convert(context.Background(), []byte(`{"swagger":"2.0","info":{"title":"t","version":"1"}}`), Options{Fixups: []Fixup{broken}})
	require.ErrorContains(t, err, "fix-up broken: boom")
}
