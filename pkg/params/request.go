package params

// RequestOptions are the parts of an asynchronous request that are not
// generation parameters: routing, privacy and cost options. Nil means "not
// set" (server default); see the field comments for those defaults, which
// are the server's effective defaults, not always the swagger's.
type RequestOptions struct {
	// Models restricts the request to these models. When nil, the adapter
	// sends [Image.Model] / [Text.Model] alone if it is set. (An empty
	// list "any model" cannot be sent with the generated client, which
	// omits empty slices.)
	Models []string `json:"models,omitempty"`

	NSFW              *bool `json:"nsfw,omitempty"`               // image only; server default true
	CensorNSFW        *bool `json:"censor_nsfw,omitempty"`        // image only; server default true
	R2                *bool `json:"r2,omitempty"`                 // image only; default true
	Shared            *bool `json:"shared,omitempty"`             // image only; default false
	ReplacementFilter *bool `json:"replacement_filter,omitempty"` // image only; default true

	TrustedWorkers    *bool    `json:"trusted_workers,omitempty"`    // default false
	ValidatedBackends *bool    `json:"validated_backends,omitempty"` // default false (image), true in the text swagger
	SlowWorkers       *bool    `json:"slow_workers,omitempty"`       // default true
	ExtraSlowWorkers  *bool    `json:"extra_slow_workers,omitempty"` // default false
	Workers           []string `json:"workers,omitempty"`            // at most 5 are used
	WorkerBlacklist   *bool    `json:"worker_blacklist,omitempty"`   // default false
	DryRun            *bool    `json:"dry_run,omitempty"`            // default false
	DisableBatching   *bool    `json:"disable_batching,omitempty"`   // default false
	AllowDowngrade    *bool    `json:"allow_downgrade,omitempty"`    // default false

	Webhook        string `json:"webhook,omitempty"`         // https URL, 10..1024 chars
	Style          string `json:"style,omitempty"`           // style id or name, 3..1024 chars
	ProxiedAccount string `json:"proxied_account,omitempty"` // service accounts only
}
