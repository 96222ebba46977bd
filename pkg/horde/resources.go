package horde

import (
	"context"
	"strconv"

	"github.com/horde-go/horde/gen"
)

// This file and the other resources_*.go files hold the ergonomic methods for the common
// operations. Each one calls the embedded generated client and returns the typed body, an
// *APIError for a non-2xx answer, or the transport error. Lists come back as slices; methods
// with query parameters take the generated parameter struct, where nil means the server's
// defaults; deletions return only an error.

// withJSON200 is a generated response whose 200 body is a *T.
type withJSON200[T any] interface {
	genResponse
	GetJSON200() *T
}

// bodyOf returns the 200 body of a generated response, or its error.
func bodyOf[T any, R withJSON200[T]](r R, err error) (*T, error) {
	return decoded(r, err, R.GetJSON200)
}

// listOf returns the 200 body of a generated response whose body is a list, or its error.
func listOf[T any, R withJSON200[[]T]](r R, err error) ([]T, error) {
	p, err := bodyOf(r, err)
	if err != nil {
		return nil, err
	}
	return *p, nil
}

// userPath is a user id as the API's paths write it.
func userPath(id int) string { return strconv.Itoa(id) }

// FindUser returns the user that owns the client's API key (GET /v2/find_user).
func (c *Client) FindUser(ctx context.Context) (*gen.UserDetails, error) {
	return bodyOf(c.raw.GetFindUserWithResponse(ctx))
}

// User returns the user with the given id, the number after the '#' of an alias
// (GET /v2/users/{user_id}).
func (c *Client) User(ctx context.Context, id int) (*gen.UserDetails, error) {
	return bodyOf(c.raw.GetUserSingleWithResponse(ctx, userPath(id)))
}

// Users returns one page of 25 users, sorted by kudos or age as params say (GET /v2/users).
func (c *Client) Users(ctx context.Context, params *gen.GetUsersParams) ([]gen.UserDetails, error) {
	return listOf(c.raw.GetUsersWithResponse(ctx, params))
}

// ModifyUser changes a user; only the fields set in change are sent (PUT /v2/users/{user_id}).
// Users may change their own username, contact and public_workers; the other fields need a
// moderator's or an admin's key.
func (c *Client) ModifyUser(ctx context.Context, id int, change gen.ModifyUserInput) (*gen.ModifyUser, error) {
	return bodyOf(c.raw.PutUserSingleWithResponse(ctx, userPath(id), change))
}

// DeleteUser deletes a user (DELETE /v2/users/{user_id}): a user may delete themselves, a
// moderator anyone.
func (c *Client) DeleteUser(ctx context.Context, id int) error {
	return noBody(c.raw.DeleteUserSingleWithResponse(ctx, userPath(id)))
}

// Workers returns the workers, filtered by type and name as params say (GET /v2/workers).
func (c *Client) Workers(ctx context.Context, params *gen.GetWorkersParams) ([]gen.WorkerDetails, error) {
	return listOf(c.raw.GetWorkersWithResponse(ctx, params))
}

// Worker returns the worker with the given id (GET /v2/workers/{worker_id}).
func (c *Client) Worker(ctx context.Context, id string) (*gen.WorkerDetails, error) {
	return bodyOf(c.raw.GetWorkerSingleWithResponse(ctx, id))
}

// WorkerByName returns the worker with the given name (GET /v2/workers/name/{worker_name}).
func (c *Client) WorkerByName(ctx context.Context, name string) (*gen.WorkerDetails, error) {
	return bodyOf(c.raw.GetWorkerSingleNameWithResponse(ctx, name))
}

// ModifyWorker changes a worker; only the fields set in change are sent
// (PUT /v2/workers/{worker_id}).
func (c *Client) ModifyWorker(ctx context.Context, id string, change gen.ModifyWorkerInput) (*gen.ModifyWorker, error) {
	return bodyOf(c.raw.PutWorkerSingleWithResponse(ctx, id, change))
}

// DeleteWorker deletes a worker (DELETE /v2/workers/{worker_id}). The server refuses with 423
// while a recent job refers to the worker.
func (c *Client) DeleteWorker(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteWorkerSingleWithResponse(ctx, id))
}

// WorkerMessages returns one page of messages to workers, filtered as params say
// (GET /v2/workers/messages).
func (c *Client) WorkerMessages(ctx context.Context, params *gen.GetWorkerMessagesParams) ([]gen.ResponseModelMessage, error) {
	return listOf(c.raw.GetWorkerMessagesWithResponse(ctx, params))
}

// WorkerMessage returns one message to a worker (GET /v2/workers/messages/{message_id}).
func (c *Client) WorkerMessage(ctx context.Context, id string) (*gen.ResponseModelMessage, error) {
	return bodyOf(c.raw.GetSingleWorkerMessageWithResponse(ctx, id))
}

// SendWorkerMessage sends a message to a worker (POST /v2/workers/messages). Moderators may
// write to any worker, other users to their own only. Set msg.Expiry (hours, at most 720):
// the server fails with a 500 without it.
func (c *Client) SendWorkerMessage(ctx context.Context, msg gen.InputModelMessage) (*gen.ResponseModelMessage, error) {
	return bodyOf(c.raw.PostWorkerMessagesWithResponse(ctx, msg))
}

// DeleteWorkerMessage deletes a message to a worker (DELETE /v2/workers/messages/{message_id}).
func (c *Client) DeleteWorkerMessage(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteSingleWorkerMessageWithResponse(ctx, id))
}
