package specconv

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi3"
)

// Fixup is one named repair of a defect of the upstream Swagger document. Apply changes the
// document in place and returns how many places it changed; a fix-up that changes nothing means
// upstream has fixed (or moved) the defect, which strict mode reports as an error.
type Fixup struct {
	// Name is the stable identifier printed in reports.
	Name string
	// Defect is the item of docs/spec-defects.md it repairs.
	Defect int
	// Summary says in one line what the fix-up does.
	Summary string
	// Apply repairs doc and returns the number of places it changed.
	Apply func(doc *openapi2.T) (int, error)
}

// Fixups returns every fix-up in the order Convert applies them. The order matters only for
// hoist-enums, which runs last so that it sees the enums the earlier fix-ups leave in place.
func Fixups() []Fixup {
	return []Fixup{
		{"rename-duplicate-operation-id", 1,
			"GET /v2/styles/text_by_name/{style_name} reuses get_single_image_style_by_name; name it get_single_text_style_by_name",
			renameDuplicateOperationIDs},
		{"string-default-as-string", 2,
			"a string schema with a non-string default (FilterPromptSuspicion.suspicion: 0) gets the string form of it",
			stringDefaultsAsStrings},
		{"drop-example-outside-enum", 3,
			"an example that is not one of its schema's enum values (RequestError.rc: ExampleHordeError) is removed",
			dropExamplesOutsideEnum},
		{"wildcard-to-map", 4,
			"a definition whose only property is the flask-restx wildcard \"*\" becomes the map it describes",
			wildcardsToMaps},
		{"typed-model-stats", 5,
			"ImgModelStats/TxtModelStats day, month and total are maps of model name to an integer count, always present (the server's stats always carry all three)",
			typedModelStats},
		{"filter-single-is-object", 6,
			"GET /v2/filters/{filter_id} answers one FilterDetails, not an array",
			filterSingleIsObject},
		{"users-list-is-array", 6,
			"GET /v2/users answers an array of UserDetails, not one",
			usersListIsArray},
		{"heartbeat-schema", 7,
			"GET /v2/status/heartbeat 200 gets the body the server sends (Heartbeat)",
			heartbeatSchema},
		{"dry-run-response", 7,
			"POST /v2/generate/async and /v2/generate/text/async with dry_run answer 200 {kudos} (DryRunKudos)",
			dryRunResponses},
		{"split-worker-message-models", 8,
			"the input model stolen the name ResponseModelMessage becomes InputModelMessage; ResponseModelMessage is the server's response",
			splitWorkerMessageModels},
		{"auth-headers-to-security", 9,
			"apikey, Client-Agent and X-Fields header parameters become an apikey security scheme (required, optional or none)",
			authHeadersToSecurity},
		{"find-user-requires-key", 9,
			"GET /v2/find_user takes a required key: the server answers 401 without one, though the document marks it optional",
			findUserRequiresKey},
		{"error-body-shape", 11,
			"RequestError.rc is optional (schema failures and limiter 429s carry none) and RequestError has the errors map",
			errorBodyShape},
		{"default-error-response", 11,
			"every operation gets a default response with the RequestError body, since error statuses are under-declared",
			defaultErrorResponses},
		{"interrogate-submit-result-object", 0,
			"POST /v2/interrogate/submit: result is an object of form results (the server parses it as a dict), not a string",
			interrogateSubmitResultObject},
		{"image-models-empty-means-any", 0,
			"GenerationInputStable.models keeps a pointer: absent means stable_diffusion, [] means any model",
			imageModelsEmptyMeansAny},
		{"style-info-may-be-empty", 0,
			"a style's info (ModelStyleInputStable/Kobold, which StyleStable/Kobold extend) has no minimum length: the server answers \"\" for a style created without one",
			styleInfoMayBeEmpty},
		{"filter-regex-may-be-absent", 0,
			"FilterRegex.regex is optional: GET /v2/filters/regex answers a type without filters as {\"filter_type\": n} alone",
			filterRegexMayBeAbsent},
		{"worker-details-messages-without-id", 0,
			"WorkerDetails.messages are WorkerDetailsMessage: the server lists a worker's messages without their id",
			workerDetailsMessagesWithoutID},
		{"proxy-passkey-is-22-characters", 0,
			"ModifyUser.proxy_passkey is 22 characters (secrets.token_urlsafe(16)), not 16",
			proxyPasskeyLength},
		{"pop-answers-may-be-null", 0,
			"the pop answers' id, ttl, model, source and upload fields may be null: the server sends them null when it has none (recorded 5.1.5 answers)",
			popAnswersMayBeNull},
		{"return-codes-the-server-raises", 11,
			"RequestError.rc gains the return codes the server raises but the document omits (BannedClientAgent, IdempotencyKeyConflict, StyleNotFound, ...)",
			returnCodesTheServerRaises},
		{"hoist-enums", 10,
			"enum copies become one named schema per value set (SamplerName, PostProcessor, ReturnCode, ...)",
			hoistEnums},
	}
}

// operationRename is one known operationId defect.
type operationRename struct{ method, path, from, to string }

var operationRenames = []operationRename{
	{"GET", "/v2/styles/text_by_name/{style_name}", "get_single_image_style_by_name", "get_single_text_style_by_name"},
}

func renameDuplicateOperationIDs(doc *openapi2.T) (int, error) {
	n := 0
	for _, r := range operationRenames {
		op := operation(doc, r.method, r.path)
		if op != nil && op.OperationID == r.from {
			op.OperationID = r.to
			n++
		}
	}
	return n, nil
}

func stringDefaultsAsStrings(doc *openapi2.T) (int, error) {
	n := 0
	walkSchemas(doc, func(_ string, ref *openapi2.SchemaRef) {
		s := ref.Value
		if ref.Ref != "" || s == nil || s.Default == nil || !s.Type.Is(openapi3.TypeString) {
			return
		}
		if _, ok := s.Default.(string); !ok {
			s.Default = fmt.Sprint(s.Default)
			n++
		}
	})
	return n, nil
}

func dropExamplesOutsideEnum(doc *openapi2.T) (int, error) {
	n := 0
	walkSchemas(doc, func(_ string, ref *openapi2.SchemaRef) {
		s := ref.Value
		if ref.Ref != "" || s == nil || s.Example == nil || len(s.Enum) == 0 {
			return
		}
		for _, v := range s.Enum {
			if reflect.DeepEqual(v, s.Example) {
				return
			}
		}
		s.Example = nil
		n++
	})
	return n, nil
}

// wildcardProperty is the property name flask-restx gives a fields.Wildcard.
const wildcardProperty = "*"

func wildcardsToMaps(doc *openapi2.T) (int, error) {
	n := 0
	for _, name := range sortedKeys(doc.Definitions) {
		def := doc.Definitions[name].Value
		if def == nil || len(def.Properties) != 1 || def.Properties[wildcardProperty] == nil {
			continue
		}
		wild := def.Properties[wildcardProperty].Value
		if wild == nil || wild.AdditionalProperties.Schema == nil {
			return n, fmt.Errorf("definition %s: wildcard property has no additionalProperties schema", name)
		}
		values := wild.AdditionalProperties.Schema
		// flask-restx writes fields.Raw as a bare `type: object`, but Raw holds any JSON value:
		// interrogation results are strings, booleans or objects.
		if v := values.Value; values.Ref == "" && v != nil && v.Type.Is(openapi3.TypeObject) && len(v.Properties) == 0 && v.AdditionalProperties.Schema == nil {
			values = &openapi3.SchemaRef{Value: &openapi3.Schema{Description: v.Description}}
		}
		doc.Definitions[name].Value = &openapi2.Schema{
			Type:                 &openapi3.Types{openapi3.TypeObject},
			Description:          def.Description,
			AdditionalProperties: openapi3.AdditionalProperties{Schema: values},
		}
		n++
	}
	return n, nil
}

func typedModelStats(doc *openapi2.T) (int, error) {
	n := 0
	for _, name := range []string{"ImgModelStats", "TxtModelStats"} {
		def := doc.Definitions[name]
		if def == nil || def.Value == nil {
			continue
		}
		for _, period := range []string{"day", "month", "total"} {
			p := def.Value.Properties[period]
			if p == nil || p.Value == nil || p.Value.AdditionalProperties.Schema != nil {
				continue
			}
			p.Value.AdditionalProperties = openapi3.AdditionalProperties{
				Schema: openapi3.NewIntegerSchema().NewRef(),
			}
			n++
			if !slices.Contains(def.Value.Required, period) {
				def.Value.Required = append(def.Value.Required, period)
				n++
			}
		}
	}
	return n, nil
}

// response200 returns the 200 response of the operation at method and path, or nil.
func response200(doc *openapi2.T, method, path string) *openapi2.Response {
	op := operation(doc, method, path)
	if op == nil || op.Responses == nil {
		return nil
	}
	return op.Responses.Value("200")
}

func filterSingleIsObject(doc *openapi2.T) (int, error) {
	r := response200(doc, "GET", "/v2/filters/{filter_id}")
	if r == nil || r.Schema == nil || r.Schema.Value == nil || !r.Schema.Value.Type.Is(openapi3.TypeArray) {
		return 0, nil
	}
	r.Schema = r.Schema.Value.Items
	return 1, nil
}

func styleInfoMayBeEmpty(doc *openapi2.T) (int, error) {
	n := 0
	for _, name := range []string{"ModelStyleInputStable", "ModelStyleInputKobold"} {
		def := doc.Definitions[name]
		if def == nil || def.Value == nil {
			continue
		}
		if info := def.Value.Properties["info"]; info != nil && info.Value != nil && info.Value.MinLength > 0 {
			info.Value.MinLength = 0
			n++
		}
	}
	return n, nil
}

func filterRegexMayBeAbsent(doc *openapi2.T) (int, error) {
	def := doc.Definitions["FilterRegex"]
	if def == nil || def.Value == nil || !slices.Contains(def.Value.Required, "regex") {
		return 0, nil
	}
	def.Value.Required = slices.DeleteFunc(slices.Clone(def.Value.Required), func(r string) bool { return r == "regex" })
	return 1, nil
}

func workerDetailsMessagesWithoutID(doc *openapi2.T) (int, error) {
	def := doc.Definitions["WorkerDetails"]
	if def == nil || def.Value == nil {
		return 0, nil
	}
	for _, part := range def.Value.AllOf {
		if part.Value == nil {
			continue
		}
		msgs := part.Value.Properties["messages"]
		if msgs == nil || msgs.Value == nil || msgs.Value.Items == nil || msgs.Value.Items.Ref != definitionRef(messageModel) {
			continue
		}
		date := func(d string) *openapi2.Schema {
			return &openapi2.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: "date-time", Description: d}
		}
		if err := addDefinition(doc, "WorkerDetailsMessage", objectSchema("A message to this worker, as its details list it (without the message's id).",
			map[string]*openapi2.Schema{
				"worker_id": scalar(openapi3.TypeString, "The ID of the worker this message is intended for."),
				"user_id":   scalar(openapi3.TypeString, "The ID of the owning user."),
				"message":   scalar(openapi3.TypeString, "The message sent."),
				"origin":    scalar(openapi3.TypeString, "The origin of this message."),
				"created":   date("The date at which this message was created."),
				"expiry":    date("The date at which this message will expire."),
			}, "worker_id", "user_id", "message", "created", "expiry")); err != nil {
			return 0, err
		}
		msgs.Value.Items = &openapi2.SchemaRef{Ref: definitionRef("WorkerDetailsMessage")}
		return 1, nil
	}
	return 0, nil
}

func proxyPasskeyLength(doc *openapi2.T) (int, error) {
	def := doc.Definitions["ModifyUser"]
	if def == nil || def.Value == nil {
		return 0, nil
	}
	p := def.Value.Properties["proxy_passkey"]
	if p == nil || p.Value == nil || p.Value.MaxLength == nil || *p.Value.MaxLength != 16 {
		return 0, nil
	}
	n := uint64(22)
	p.Value.MinLength, p.Value.MaxLength = n, &n
	p.Value.Example = strings.Repeat("0", int(n))
	return 1, nil
}

// nullInPops are the fields of the pop answers the server sends as null when it has no value
// for them (the recorded image pop without a job, the text pop with one).
var nullInPops = map[string][]string{
	"GenerationPayloadStable": {"id", "ttl", "model", "source_image", "source_mask", "extra_source_images", "r2_upload", "r2_uploads"},
	"GenerationPayloadKobold": {"id", "ttl", "model", "softprompt", "extra_source_images"},
}

func popAnswersMayBeNull(doc *openapi2.T) (int, error) {
	n := 0
	for name, props := range nullInPops {
		def := doc.Definitions[name]
		if def == nil || def.Value == nil {
			continue
		}
		for _, p := range props {
			prop := def.Value.Properties[p]
			if prop == nil {
				continue
			}
			if prop.Ref != "" { // a reference cannot carry the flag: wrap it
				prop = &openapi2.SchemaRef{Value: &openapi2.Schema{AllOf: openapi2.SchemaRefs{{Ref: prop.Ref}}}}
				def.Value.Properties[p] = prop
			}
			if prop.Value.Extensions == nil {
				prop.Value.Extensions = map[string]any{}
			}
			if prop.Value.Extensions["x-nullable"] == true {
				continue
			}
			prop.Value.Extensions["x-nullable"] = true
			n++
		}
	}
	return n, nil
}

func usersListIsArray(doc *openapi2.T) (int, error) {
	r := response200(doc, "GET", "/v2/users")
	if r == nil || r.Schema == nil || r.Schema.Ref == "" {
		return 0, nil
	}
	r.Schema = &openapi2.SchemaRef{Value: &openapi2.Schema{
		Type:  &openapi3.Types{openapi3.TypeArray},
		Items: r.Schema,
	}}
	return 1, nil
}

// addDefinition adds a definition that upstream lacks; it fails if upstream has one by that name.
func addDefinition(doc *openapi2.T, name string, s *openapi2.Schema) error {
	if _, ok := doc.Definitions[name]; ok {
		return fmt.Errorf("definition %s exists upstream: review this fix-up", name)
	}
	doc.Definitions[name] = &openapi2.SchemaRef{Value: s}
	return nil
}

func objectSchema(description string, props map[string]*openapi2.Schema, required ...string) *openapi2.Schema {
	s := &openapi2.Schema{
		Type:        &openapi3.Types{openapi3.TypeObject},
		Description: description,
		Properties:  openapi2.Schemas{},
		Required:    required,
	}
	for name, p := range props {
		s.Properties[name] = &openapi2.SchemaRef{Value: p}
	}
	return s
}

func scalar(typ, description string) *openapi2.Schema {
	return &openapi2.Schema{Type: &openapi3.Types{typ}, Description: description}
}

func heartbeatSchema(doc *openapi2.T) (int, error) {
	r := response200(doc, "GET", "/v2/status/heartbeat")
	if r == nil || r.Schema != nil {
		return 0, nil
	}
	err := addDefinition(doc, "Heartbeat", objectSchema(
		"The health of the server node that answered.",
		map[string]*openapi2.Schema{
			"message":       scalar(openapi3.TypeString, "OK, OVERLOADED (requests are queueing) or DOWN (no database)."),
			"version":       scalar(openapi3.TypeString, "The version of the AI Horde server."),
			"queue":         scalar(openapi3.TypeInteger, "Requests waiting for a server thread."),
			"threads":       scalar(openapi3.TypeInteger, "Server threads of this node."),
			"active_count":  scalar(openapi3.TypeInteger, "Server threads busy now."),
			"db_connection": scalar(openapi3.TypeBoolean, "Whether this node reaches its database."),
		}))
	if err != nil {
		return 0, err
	}
	r.Schema = &openapi2.SchemaRef{Ref: definitionRef("Heartbeat")}
	return 1, nil
}

func dryRunResponses(doc *openapi2.T) (int, error) {
	n := 0
	for _, path := range []string{"/v2/generate/async", "/v2/generate/text/async"} {
		op := operation(doc, "POST", path)
		if op == nil || op.Responses == nil || op.Responses.Value("200") != nil {
			continue
		}
		if n == 0 {
			err := addDefinition(doc, "DryRunKudos", objectSchema(
				"The kudos a request would cost, answered instead of queueing it when dry_run is true.",
				map[string]*openapi2.Schema{"kudos": scalar(openapi3.TypeNumber, "The kudos the request would cost.")},
				"kudos"))
			if err != nil {
				return 0, err
			}
		}
		op.Responses.Set("200", &openapi2.Response{
			Description: "Dry run: the kudos this request would cost",
			Schema:      &openapi2.SchemaRef{Ref: definitionRef("DryRunKudos")},
		})
		n++
	}
	return n, nil
}

// Worker messages: the server has an input model and a response model that flask-restx both
// names ResponseModelMessage; the document keeps the input one. The operations below send the
// input one and answer the response one.
const (
	messageModel      = "ResponseModelMessage"
	messageInputModel = "InputModelMessage"
	messagePopModel   = "ResponseModelMessagePop"
)

func splitWorkerMessageModels(doc *openapi2.T) (int, error) {
	in := doc.Definitions[messageModel]
	if in == nil || in.Value == nil || in.Value.Properties["expiry"] == nil ||
		!in.Value.Properties["expiry"].Value.Type.Is(openapi3.TypeInteger) {
		return 0, nil // the definition no longer has the input shape: upstream fixed it
	}
	if _, ok := doc.Definitions[messagePopModel]; !ok {
		return 0, fmt.Errorf("definition %s missing: review this fix-up", messagePopModel)
	}
	if err := addDefinition(doc, messageInputModel, in.Value); err != nil {
		return 0, err
	}
	n := 1
	date := func(d string) *openapi2.Schema {
		return &openapi2.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: "date-time", Description: d}
	}
	doc.Definitions[messageModel] = &openapi2.SchemaRef{Value: &openapi2.Schema{AllOf: openapi2.SchemaRefs{
		{Ref: definitionRef(messagePopModel)},
		{Value: objectSchema("", map[string]*openapi2.Schema{
			"worker_id": scalar(openapi3.TypeString, "The ID of the worker this message is intended for."),
			"user_id":   scalar(openapi3.TypeString, "The ID of the owning user."),
			"created":   date("The date at which this message was created."),
		}, "user_id", "created")}, // a message to every worker has no worker_id
	}}}
	op := operation(doc, "POST", "/v2/workers/messages")
	if op == nil {
		return n, fmt.Errorf("POST /v2/workers/messages missing: review this fix-up")
	}
	for _, p := range op.Parameters {
		if p.In == "body" && p.Schema != nil && p.Schema.Ref == definitionRef(messageModel) {
			p.Schema = &openapi2.SchemaRef{Ref: definitionRef(messageInputModel)}
			n++
		}
	}
	return n, nil
}

// Header parameters that the client sets on every request rather than per call.
const (
	apiKeyHeader      = "apikey"
	clientAgentHeader = "Client-Agent"
	fieldMaskHeader   = "X-Fields"
	// SecuritySchemeName is the name of the security scheme that carries the API key.
	SecuritySchemeName = "apikey"
)

func authHeadersToSecurity(doc *openapi2.T) (int, error) {
	n := 0
	forEachOperation(doc, func(_, _ string, op *openapi2.Operation) {
		security := openapi2.SecurityRequirements{} // no key
		removed := 0
		kept := op.Parameters[:0]
		for _, p := range op.Parameters {
			if p.In != "header" {
				kept = append(kept, p)
				continue
			}
			switch p.Name {
			case apiKeyHeader:
				if p.Required {
					security = openapi2.SecurityRequirements{{SecuritySchemeName: {}}}
				} else {
					security = openapi2.SecurityRequirements{{}, {SecuritySchemeName: {}}}
				}
			case clientAgentHeader, fieldMaskHeader:
			default:
				kept = append(kept, p)
				continue
			}
			removed++
		}
		op.Parameters = kept
		// An operation that declared none of these headers takes no key; one that has been
		// converted already keeps what it has.
		if removed > 0 || op.Security == nil {
			op.Security = &security
		}
		n += removed
	})
	if n == 0 {
		return 0, nil
	}
	if doc.SecurityDefinitions == nil {
		doc.SecurityDefinitions = map[string]*openapi2.SecurityScheme{}
	}
	doc.SecurityDefinitions[SecuritySchemeName] = &openapi2.SecurityScheme{
		Type:        "apiKey",
		In:          "header",
		Name:        apiKeyHeader,
		Description: "The user's API key. The anonymous key is 0000000000.",
	}
	return n, nil
}

func errorBodyShape(doc *openapi2.T) (int, error) {
	def := doc.Definitions["RequestError"]
	if def == nil || def.Value == nil {
		return 0, fmt.Errorf("definition RequestError missing: review this fix-up")
	}
	s := def.Value
	n := 0
	kept := s.Required[:0]
	for _, r := range s.Required {
		if r == "rc" {
			n++
			continue
		}
		kept = append(kept, r)
	}
	s.Required = kept
	if s.Properties["errors"] == nil {
		s.Properties["errors"] = &openapi2.SchemaRef{Value: &openapi2.Schema{
			Type:        &openapi3.Types{openapi3.TypeObject},
			Description: "Validation failures: the field that failed and what was wrong with it.",
			AdditionalProperties: openapi3.AdditionalProperties{
				Schema: openapi3.NewStringSchema().NewRef(),
			},
		}}
		n++
	}
	// RequestValidationError repeats errors on top of RequestError: make it the same body.
	if v := doc.Definitions["RequestValidationError"]; v != nil && v.Value != nil && len(v.Value.AllOf) > 0 {
		doc.Definitions["RequestValidationError"] = &openapi2.SchemaRef{Ref: definitionRef("RequestError")}
		n++
	}
	return n, nil
}

func defaultErrorResponses(doc *openapi2.T) (int, error) {
	n := 0
	forEachOperation(doc, func(_, _ string, op *openapi2.Operation) {
		if op.Responses == nil || op.Responses.Value("default") != nil {
			return
		}
		op.Responses.Set("default", &openapi2.Response{
			Description: "Any other error",
			Schema:      &openapi2.SchemaRef{Ref: definitionRef("RequestError")},
		})
		n++
	})
	return n, nil
}

// interrogateSubmitResultObject: the body of POST /v2/interrogate/submit comes from a reqparse
// parser whose result argument has type=dict (server apis/v2/stable.py InterrogateSubmit), but
// flask-restx documents it as a string. A worker must send {"caption": "..."} or
// {"<post-processor>": "R2"}. Item 13 of docs/spec-defects.md: found while building the worker.
func interrogateSubmitResultObject(doc *openapi2.T) (int, error) {
	op := operation(doc, "POST", "/v2/interrogate/submit")
	if op == nil {
		return 0, nil
	}
	n := 0
	for _, p := range op.Parameters {
		if p.In != "body" || p.Schema == nil || p.Schema.Value == nil {
			continue
		}
		result := p.Schema.Value.Properties["result"]
		if result == nil || result.Value == nil || !result.Value.Type.Is(openapi3.TypeString) {
			continue
		}
		p.Schema.Value.Properties["result"] = &openapi2.SchemaRef{Value: &openapi2.Schema{
			Type:        &openapi3.Types{openapi3.TypeObject},
			Description: "The result of each form: text results inline, image results as \"R2\" after the upload.",
			AdditionalProperties: openapi3.AdditionalProperties{
				Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{}},
			},
		}}
		n++
	}
	return n, nil
}

// imageModelsEmptyMeansAny: for POST /v2/generate/async the server's parser defaults models to
// ["stable_diffusion"] when the field is absent, and an explicit [] asks for any model
// (docs/server-behaviour.md). With optional slices generated without pointers, [] could not be
// sent; this one field keeps a pointer. Item 14 of docs/spec-defects.md.
func imageModelsEmptyMeansAny(doc *openapi2.T) (int, error) {
	def := doc.Definitions["GenerationInputStable"]
	if def == nil || def.Value == nil || def.Value.Properties["models"] == nil {
		return 0, nil
	}
	models := def.Value.Properties["models"]
	if models.Value == nil {
		return 0, nil
	}
	if v, ok := models.Value.Extensions[skipOptionalPointer]; ok && v == false {
		return 0, nil
	}
	if models.Value.Extensions == nil {
		models.Value.Extensions = map[string]any{}
	}
	models.Value.Extensions[skipOptionalPointer] = false
	return 1, nil
}

// skipOptionalPointer is oapi-codegen's per-field override of the optional-pointer rule.
const skipOptionalPointer = "x-go-type-skip-optional-pointer"

// missingReturnCodes are return codes the server raises (server source: call sites in
// horde/apis/v2/*.py, and ThingNotFound's f"{thing_type.capitalize()}NotFound") that its
// KNOWN_RC list, hence the document, lacks. The server's dotted variants (for example
// "InvalidExtraTexts.") are left out: they would take the Go names of the undotted codes.
var missingReturnCodes = []string{
	"AnonForbiddenUser", "BannedClientAgent", "CollectionNotFound", "ControlNetInpaintingMismatch",
	"IdempotencyKeyConflict", "Image styleNotFound", "InvalidKudosTransferAmount", "InvalidRemix", "InvalidTargetUsername",
	"Style exampleNotFound", "StyleNotFound", "Text styleNotFound", "TooManyWorkers", "TooManyWorkersTrusted",
	"WorkermessageNotFound",
}

func returnCodesTheServerRaises(doc *openapi2.T) (int, error) {
	def := doc.Definitions["RequestError"]
	if def == nil || def.Value == nil || def.Value.Properties["rc"] == nil || def.Value.Properties["rc"].Value == nil {
		return 0, fmt.Errorf("RequestError.rc missing: review this fix-up")
	}
	rc := def.Value.Properties["rc"].Value
	have := map[any]bool{}
	for _, v := range rc.Enum {
		have[v] = true
	}
	n := 0
	for _, code := range missingReturnCodes {
		if !have[code] {
			rc.Enum = append(rc.Enum, code)
			n++
		}
	}
	return n, nil
}

// findUserRequiresKey: find_user answers "who owns this key"; without a key the server answers
// 401 InvalidAPIKey (docs/server-behaviour.md), yet its apikey header is documented as optional.
// Runs after auth-headers-to-security.
func findUserRequiresKey(doc *openapi2.T) (int, error) {
	op := operation(doc, "GET", "/v2/find_user")
	if op == nil || op.Security == nil {
		return 0, nil
	}
	required := openapi2.SecurityRequirements{{SecuritySchemeName: {}}}
	if reflect.DeepEqual(*op.Security, required) {
		return 0, nil
	}
	op.Security = &required
	return 1, nil
}
