package horde

import (
	"context"
	"fmt"

	"github.com/horde-go/horde/gen"
)

// Heartbeat reports whether the Horde is up, and its version (GET /v2/status/heartbeat).
func (c *Client) Heartbeat(ctx context.Context) (*gen.Heartbeat, error) {
	return bodyOf(c.raw.GetHeartbeatWithResponse(ctx))
}

// Models returns the models that workers serve, with their queues, filtered as params say
// (GET /v2/status/models). Without a type the server lists image models.
func (c *Client) Models(ctx context.Context, params *gen.GetModelsParams) ([]gen.ActiveModel, error) {
	return listOf(c.raw.GetModelsWithResponse(ctx, params))
}

// Model returns one model's status (GET /v2/status/models/{model_name}). The name is sent as
// one path segment, so names with '/' (text models such as "aphrodite/org/model") work. The
// server answers a model it does not know with an empty list: Model then returns an error
// that matches ErrNotFound.
func (c *Client) Model(ctx context.Context, name string) (*gen.ActiveModel, error) {
	models, err := listOf(c.raw.GetModelSingleWithResponse(ctx, name))
	if err != nil {
		return nil, err
	}
	if len(models) == 0 {
		return nil, fmt.Errorf("horde: model %q: %w", name, ErrNotFound)
	}
	return &models[0], nil
}

// Modes returns the Horde's maintenance, invite-only and (for moderators) raid modes
// (GET /v2/status/modes).
func (c *Client) Modes(ctx context.Context) (*gen.HordeModes, error) {
	return bodyOf(c.raw.GetHordeModesWithResponse(ctx))
}

// SetModes changes the modes set in modes and returns the new state (PUT /v2/status/modes).
// Maintenance needs an admin's key, the others a moderator's.
func (c *Client) SetModes(ctx context.Context, modes gen.HordeModes) (*gen.HordeModes, error) {
	return bodyOf(c.raw.PutHordeModesWithResponse(ctx, gen.PutHordeModesJSONRequestBody(modes)))
}

// News returns the Horde's news (GET /v2/status/news).
func (c *Client) News(ctx context.Context) ([]gen.Newspiece, error) {
	return listOf(c.raw.GetHordeNewsWithResponse(ctx))
}

// Performance returns the Horde's load: queues, workers and throughput
// (GET /v2/status/performance).
func (c *Client) Performance(ctx context.Context) (*gen.HordePerformance, error) {
	return bodyOf(c.raw.GetHordeLoadWithResponse(ctx))
}

// ImageTotals returns how many images and pixel-steps the Horde generated per minute, hour,
// day, month and in total (GET /v2/stats/img/totals).
func (c *Client) ImageTotals(ctx context.Context) (*gen.StatsImgTotals, error) {
	return bodyOf(c.raw.GetImageHordeStatsTotalsWithResponse(ctx))
}

// TextTotals returns how many texts and tokens the Horde generated per minute, hour, day,
// month and in total (GET /v2/stats/text/totals).
func (c *Client) TextTotals(ctx context.Context) (*gen.StatsTxtTotals, error) {
	return bodyOf(c.raw.GetTextHordeStatsTotalsWithResponse(ctx))
}

// ImageModelStats returns how many images each model generated per day, month and in total
// (GET /v2/stats/img/models).
func (c *Client) ImageModelStats(ctx context.Context, params *gen.GetImageHordeStatsModelsParams) (*gen.ImgModelStats, error) {
	return bodyOf(c.raw.GetImageHordeStatsModelsWithResponse(ctx, params))
}

// TextModelStats returns how many texts each model generated per day, month and in total
// (GET /v2/stats/text/models).
func (c *Client) TextModelStats(ctx context.Context) (*gen.TxtModelStats, error) {
	return bodyOf(c.raw.GetTextHordeStatsModelsWithResponse(ctx))
}

// Filters returns the prompt filters, filtered as params say (GET /v2/filters). The filter
// methods need a moderator's key.
func (c *Client) Filters(ctx context.Context, params *gen.GetFiltersParams) ([]gen.FilterDetails, error) {
	return listOf(c.raw.GetFiltersWithResponse(ctx, params))
}

// Filter returns one prompt filter (GET /v2/filters/{filter_id}).
func (c *Client) Filter(ctx context.Context, id string) (*gen.FilterDetails, error) {
	return bodyOf(c.raw.GetFilterSingleWithResponse(ctx, id))
}

// CreateFilter adds a prompt filter and returns it (PUT /v2/filters).
func (c *Client) CreateFilter(ctx context.Context, filter gen.PutNewFilter) (*gen.FilterDetails, error) {
	r, err := c.raw.PutFiltersWithResponse(ctx, filter)
	return decoded(r, err, (*gen.PutFiltersResponse).GetJSON201)
}

// ModifyFilter changes the fields set in change and returns the filter
// (PATCH /v2/filters/{filter_id}).
func (c *Client) ModifyFilter(ctx context.Context, id string, change gen.PatchExistingFilter) (*gen.FilterDetails, error) {
	return bodyOf(c.raw.PatchFilterSingleWithResponse(ctx, id, change))
}

// DeleteFilter deletes a prompt filter (DELETE /v2/filters/{filter_id}).
func (c *Client) DeleteFilter(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteFilterSingleWithResponse(ctx, id))
}

// CheckPrompt rates how suspicious prompt is (POST /v2/filters): a suspicion of 2 or more
// would be blocked. A filterType of 0 checks the prompt against every filter type.
func (c *Client) CheckPrompt(ctx context.Context, prompt string, filterType int) (*gen.FilterPromptSuspicion, error) {
	return bodyOf(c.raw.PostFiltersWithResponse(ctx, gen.PostFiltersJSONRequestBody{Prompt: &prompt, FilterType: nonZero(filterType)}))
}

// FilterRegexes returns the combined regex of each filter type, or of the type params names
// (GET /v2/filters/regex).
func (c *Client) FilterRegexes(ctx context.Context, params *gen.GetFilterRegexParams) ([]gen.FilterRegex, error) {
	return listOf(c.raw.GetFilterRegexWithResponse(ctx, params))
}

// DocumentFormat selects the format of a Horde document.
type DocumentFormat string

// Document formats. The zero DocumentFormat leaves the choice to the server (HTML).
const (
	DocumentHTML     DocumentFormat = "html"
	DocumentMarkdown DocumentFormat = "markdown"
)

// Terms returns the Horde's terms of service in format (GET /v2/documents/terms).
func (c *Client) Terms(ctx context.Context, format DocumentFormat) (*gen.HordeDocument, error) {
	return bodyOf(c.raw.GetDocsTermsWithResponse(ctx, &gen.GetDocsTermsParams{Format: nonZero(string(format))}))
}

// PrivacyPolicy returns the Horde's privacy policy in format (GET /v2/documents/privacy).
func (c *Client) PrivacyPolicy(ctx context.Context, format DocumentFormat) (*gen.HordeDocument, error) {
	return bodyOf(c.raw.GetDocsPrivacyWithResponse(ctx, &gen.GetDocsPrivacyParams{Format: nonZero(string(format))}))
}

// Sponsors returns the Horde's sponsors page in format (GET /v2/documents/sponsors).
func (c *Client) Sponsors(ctx context.Context, format DocumentFormat) (*gen.HordeDocument, error) {
	return bodyOf(c.raw.GetDocsSponsorsWithResponse(ctx, &gen.GetDocsSponsorsParams{Format: nonZero(string(format))}))
}

// nonZero returns a pointer to v, or nil when v is the zero value: the generated types leave
// nil fields out of a request.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
