package hordetest

import (
	"encoding/json"

	"github.com/horde-go/horde/gen"
)

// Wire shapes of the responses whose keys the real server always sends (recorded in
// testdata/aihorde/live): the generated models omit empty values, these do not.

type statusCheck struct {
	Finished      int     `json:"finished"`
	Processing    int     `json:"processing"`
	Restarted     int     `json:"restarted"`
	Waiting       int     `json:"waiting"`
	Done          bool    `json:"done"`
	Faulted       bool    `json:"faulted"`
	WaitTime      int     `json:"wait_time"`
	QueuePosition int     `json:"queue_position"`
	Kudos         float64 `json:"kudos"`
	IsPossible    bool    `json:"is_possible"`
}

type imageGeneration struct {
	Img         string                         `json:"img"`
	Seed        string                         `json:"seed"`
	ID          string                         `json:"id"`
	Censored    bool                           `json:"censored"`
	GenMetadata []gen.GenerationMetadataStable `json:"gen_metadata"`
	WorkerID    string                         `json:"worker_id"`
	WorkerName  string                         `json:"worker_name"`
	Model       string                         `json:"model"`
	State       string                         `json:"state"`
}

type imageStatus struct {
	Generations []imageGeneration `json:"generations"`
	Shared      bool              `json:"shared"`
	statusCheck
}

type textGeneration struct {
	Text        string                         `json:"text"`
	Seed        int                            `json:"seed"`
	GenMetadata []gen.GenerationMetadataKobold `json:"gen_metadata"`
	WorkerID    string                         `json:"worker_id"`
	WorkerName  string                         `json:"worker_name"`
	Model       string                         `json:"model"`
	State       string                         `json:"state"`
}

type textStatus struct {
	Generations []textGeneration `json:"generations"`
	statusCheck
}

type imagePop struct {
	Payload           *gen.ModelPayloadStable `json:"payload"`
	ID                string                  `json:"id"`
	Ids               []string                `json:"ids"`
	Messages          []any                   `json:"messages"`
	TTL               int                     `json:"ttl"`
	Skipped           map[string]int          `json:"skipped"`
	Model             string                  `json:"model"`
	SourceImage       *string                 `json:"source_image"` // null, as the server sends what it lacks
	SourceProcessing  string                  `json:"source_processing"`
	SourceMask        *string                 `json:"source_mask"`
	ExtraSourceImages []gen.ExtraSourceImage  `json:"extra_source_images"`
	R2Upload          *string                 `json:"r2_upload"`
	R2Uploads         []string                `json:"r2_uploads"`
}

type textPop struct {
	Payload  *gen.ModelPayloadKobold `json:"payload"`
	ID       string                  `json:"id"`
	Ids      []string                `json:"ids"`
	Messages []any                   `json:"messages"`
	TTL      int                     `json:"ttl"`
	Skipped  map[string]int          `json:"skipped"`
	Model    string                  `json:"model"`
	// Null, as the server sends them when the request has none.
	ExtraSourceImages []gen.ExtraSourceImage `json:"extra_source_images"`
	Softprompt        *string                `json:"softprompt"`
}

// withEmpty marshals v and adds keys the generated model omits when empty, as the real
// server always sends them.
func withEmpty(v any, keys ...string) map[string]any {
	b, _ := json.Marshal(v)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			m[k] = []any{}
		}
	}
	return m
}
