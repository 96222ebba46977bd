package params

// Alchemy is an alchemy request: one source image and the operations to
// run on it. Each operation yields one result.
type Alchemy struct {
	// Source is the image (URL or inline data; the API sends inline data as
	// base64).
	Source ImageData `json:"source"`
	// Ops are the operations, one per form, in order. Duplicate forms are
	// dropped by the server; validation rejects them.
	Ops []AlchemyOp `json:"ops"`
}

// AlchemyOp is one alchemy operation (one form).
type AlchemyOp struct {
	// ResultID identifies the result: the form id of a popped job; empty in
	// a request (the server assigns it).
	ResultID string `json:"result_id,omitempty"`
	// Form is the operation: caption, interrogation, nsfw, a post-processor
	// (upscaler, face fixer, strip_background), vectorize, palette, describe
	// or aesthetic.
	Form AlchemyForm `json:"form"`
	// Payload holds form options (string values, as in the API).
	Payload map[string]string `json:"payload,omitempty"`
	// Source is the operation's own source image in a popped job (forms of
	// one pop can come from different requests). Empty in requests.
	Source ImageData `json:"source,omitzero"`
}

// Kind classifies the operation for dispatch to a backend.
func (op AlchemyOp) Kind() AlchemyKind {
	p := PostProcessor(op.Form)
	switch {
	case p.IsUpscaler():
		return KindUpscale
	case p.IsFaceFixer():
		return KindFaceFix
	case p == PPStripBackground:
		return KindStripBackground
	case op.Form == FormCaption:
		return KindCaption
	case op.Form == FormInterrogation:
		return KindInterrogate
	case op.Form == FormNSFW:
		return KindNSFW
	case op.Form == FormAnnotation:
		return KindAnnotation
	case op.Form == FormVectorize, op.Form == FormPalette, op.Form == FormDescribe, op.Form == FormAesthetic:
		return KindAnalysis
	}
	return KindUnknown
}

// AlchemyKind groups alchemy forms by what runs them.
type AlchemyKind int

// Alchemy kinds.
const (
	KindUnknown AlchemyKind = iota
	KindUpscale
	KindFaceFix
	KindStripBackground
	KindCaption
	KindInterrogate
	KindNSFW
	KindAnnotation
	KindAnalysis
)

// NumResults is the number of results: one per operation.
func (a *Alchemy) NumResults() int { return len(a.Ops) }
