package horde

import (
	"context"

	"github.com/horde-go/horde/gen"
)

// ImageStyles returns one page of public image styles, sorted and filtered as params say
// (GET /v2/styles/image).
func (c *Client) ImageStyles(ctx context.Context, params *gen.GetImageStyleParams) ([]gen.StyleStable, error) {
	return listOf(c.raw.GetImageStyleWithResponse(ctx, params))
}

// ImageStyle returns the image style with the given id (GET /v2/styles/image/{style_id}).
func (c *Client) ImageStyle(ctx context.Context, id string) (*gen.StyleStable, error) {
	return bodyOf(c.raw.GetSingleImageStyleWithResponse(ctx, id))
}

// ImageStyleByName returns the image style with the given name
// (GET /v2/styles/image_by_name/{style_name}).
func (c *Client) ImageStyleByName(ctx context.Context, name string) (*gen.StyleStable, error) {
	return bodyOf(c.raw.GetSingleImageStyleByNameWithResponse(ctx, name))
}

// CreateImageStyle creates an image style; the answer carries its id and the server's
// warnings (POST /v2/styles/image).
func (c *Client) CreateImageStyle(ctx context.Context, style gen.ModelStyleInputStable) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PostImageStyleWithResponse(ctx, style))
}

// ModifyImageStyle changes the fields set in change (PATCH /v2/styles/image/{style_id}).
func (c *Client) ModifyImageStyle(ctx context.Context, id string, change gen.ModelStylePatchStable) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PatchSingleImageStyleWithResponse(ctx, id, change))
}

// DeleteImageStyle deletes an image style (DELETE /v2/styles/image/{style_id}).
func (c *Client) DeleteImageStyle(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteSingleImageStyleWithResponse(ctx, id))
}

// AddImageStyleExample adds an example image to an image style
// (POST /v2/styles/image/{style_id}/example).
func (c *Client) AddImageStyleExample(ctx context.Context, styleID string, example gen.InputStyleExamplePost) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PostImageStyleExampleWithResponse(ctx, styleID, example))
}

// ModifyImageStyleExample replaces an example of an image style
// (PATCH /v2/styles/image/{style_id}/example/{example_id}).
func (c *Client) ModifyImageStyleExample(ctx context.Context, styleID, exampleID string, example gen.InputStyleExamplePost) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PatchSingleImageStyleExampleWithResponse(ctx, styleID, exampleID, example))
}

// DeleteImageStyleExample deletes an example of an image style
// (DELETE /v2/styles/image/{style_id}/example/{example_id}).
func (c *Client) DeleteImageStyleExample(ctx context.Context, styleID, exampleID string) error {
	return noBody(c.raw.DeleteSingleImageStyleExampleWithResponse(ctx, styleID, exampleID))
}

// TextStyles returns one page of public text styles, sorted and filtered as params say
// (GET /v2/styles/text).
func (c *Client) TextStyles(ctx context.Context, params *gen.GetTextStyleParams) ([]gen.StyleKobold, error) {
	return listOf(c.raw.GetTextStyleWithResponse(ctx, params))
}

// TextStyle returns the text style with the given id (GET /v2/styles/text/{style_id}).
func (c *Client) TextStyle(ctx context.Context, id string) (*gen.StyleKobold, error) {
	return bodyOf(c.raw.GetSingleTextStyleWithResponse(ctx, id))
}

// TextStyleByName returns the text style with the given name
// (GET /v2/styles/text_by_name/{style_name}).
func (c *Client) TextStyleByName(ctx context.Context, name string) (*gen.StyleKobold, error) {
	return bodyOf(c.raw.GetSingleTextStyleByNameWithResponse(ctx, name))
}

// CreateTextStyle creates a text style; the answer carries its id and the server's warnings
// (POST /v2/styles/text).
func (c *Client) CreateTextStyle(ctx context.Context, style gen.ModelStyleInputKobold) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PostTextStyleWithResponse(ctx, style))
}

// ModifyTextStyle changes the fields set in change (PATCH /v2/styles/text/{style_id}).
func (c *Client) ModifyTextStyle(ctx context.Context, id string, change gen.ModelStylePatchKobold) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PatchSingleTextStyleWithResponse(ctx, id, change))
}

// DeleteTextStyle deletes a text style (DELETE /v2/styles/text/{style_id}).
func (c *Client) DeleteTextStyle(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteSingleTextStyleWithResponse(ctx, id))
}

// Collections returns one page of public style collections, sorted and filtered as params say
// (GET /v2/collections).
func (c *Client) Collections(ctx context.Context, params *gen.GetCollectionParams) ([]gen.ResponseModelCollection, error) {
	return listOf(c.raw.GetCollectionWithResponse(ctx, params))
}

// Collection returns the collection with the given id (GET /v2/collections/{collection_id}).
func (c *Client) Collection(ctx context.Context, id string) (*gen.ResponseModelCollection, error) {
	return bodyOf(c.raw.GetSingleCollectionWithResponse(ctx, id))
}

// CollectionByName returns the collection with the given name
// (GET /v2/collection_by_name/{collection_name}).
func (c *Client) CollectionByName(ctx context.Context, name string) (*gen.ResponseModelCollection, error) {
	return bodyOf(c.raw.GetSingleCollectionByNameWithResponse(ctx, name))
}

// CreateCollection creates a collection of styles of one type; the answer carries its id
// (POST /v2/collections).
func (c *Client) CreateCollection(ctx context.Context, collection gen.InputModelCollection) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PostCollectionWithResponse(ctx, collection))
}

// ModifyCollection changes the fields set in change (PATCH /v2/collections/{collection_id}).
func (c *Client) ModifyCollection(ctx context.Context, id string, change gen.InputModelCollection) (*gen.StyleModify, error) {
	return bodyOf(c.raw.PatchSingleCollectionWithResponse(ctx, id, change))
}

// DeleteCollection deletes a collection (DELETE /v2/collections/{collection_id}).
func (c *Client) DeleteCollection(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteSingleCollectionWithResponse(ctx, id))
}
