package horde

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/horde-go/horde/gen"
)

// Teams returns the worker teams (GET /v2/teams).
func (c *Client) Teams(ctx context.Context) ([]gen.TeamDetails, error) {
	return listOf(c.raw.GetTeamsWithResponse(ctx))
}

// Team returns the team with the given id (GET /v2/teams/{team_id}).
func (c *Client) Team(ctx context.Context, id string) (*gen.TeamDetails, error) {
	return bodyOf(c.raw.GetTeamSingleWithResponse(ctx, id))
}

// CreateTeam creates a team; the answer carries its id (POST /v2/teams). It needs a trusted
// user's key.
func (c *Client) CreateTeam(ctx context.Context, team gen.CreateTeamInput) (*gen.ModifyTeam, error) {
	return bodyOf(c.raw.PostTeamsWithResponse(ctx, team))
}

// ModifyTeam changes the fields set in change (PATCH /v2/teams/{team_id}).
func (c *Client) ModifyTeam(ctx context.Context, id string, change gen.ModifyTeamInput) (*gen.ModifyTeam, error) {
	return bodyOf(c.raw.PatchTeamSingleWithResponse(ctx, id, change))
}

// DeleteTeam deletes a team; its workers leave it (DELETE /v2/teams/{team_id}).
func (c *Client) DeleteTeam(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteTeamSingleWithResponse(ctx, id))
}

// SharedKey returns the shared key with the given id (GET /v2/sharedkeys/{sharedkey_id}).
// The server answers an unknown id with 401, which matches ErrUnauthorized.
func (c *Client) SharedKey(ctx context.Context, id string) (*gen.SharedKeyDetails, error) {
	return bodyOf(c.raw.GetSharedKeySingleWithResponse(ctx, id))
}

// CreateSharedKey creates a key that spends the user's kudos within the limits set in key
// (PUT /v2/sharedkeys). The answer's id is the new key.
func (c *Client) CreateSharedKey(ctx context.Context, key gen.SharedKeyInput) (*gen.SharedKeyDetails, error) {
	return bodyOf(c.raw.PutSharedKeyWithResponse(ctx, key))
}

// ModifySharedKey changes the fields set in change (PATCH /v2/sharedkeys/{sharedkey_id}).
func (c *Client) ModifySharedKey(ctx context.Context, id string, change gen.SharedKeyInput) (*gen.SharedKeyDetails, error) {
	return bodyOf(c.raw.PatchSharedKeySingleWithResponse(ctx, id, change))
}

// DeleteSharedKey deletes a shared key (DELETE /v2/sharedkeys/{sharedkey_id}).
func (c *Client) DeleteSharedKey(ctx context.Context, id string) error {
	return noBody(c.raw.DeleteSharedKeySingleWithResponse(ctx, id))
}

// TransferKudos gives amount of the key owner's kudos to the user named to, an alias such as
// "name#1234" (the server matches the number after the last '#') or a shared key's id
// (POST /v2/kudos/transfer).
//
// The request carries a fresh Idempotency-Key, so the client may retry it after a failure and
// the server applies it once. To retry later (after a crash, say) a transfer whose outcome is
// unknown, use TransferKudosWithKey with a key from NewIdempotencyKey kept for that purpose.
func (c *Client) TransferKudos(ctx context.Context, to string, amount int) (*gen.KudosTransferred, error) {
	return c.TransferKudosWithKey(ctx, NewIdempotencyKey(), to, amount)
}

// TransferKudosWithKey is TransferKudos with the caller's Idempotency-Key: the server applies
// repeats of a successful transfer with the same key, target and amount once, and refuses the
// key with another target or amount (400 IdempotencyKeyConflict). Keys are kept per sender
// and never expire.
func (c *Client) TransferKudosWithKey(ctx context.Context, key, to string, amount int) (*gen.KudosTransferred, error) {
	if key == "" {
		return nil, errors.New("horde: TransferKudosWithKey: the idempotency key is empty")
	}
	params := &gen.PostTransferKudosParams{IdempotencyKey: &key}
	return bodyOf(c.raw.PostTransferKudosWithResponse(ctx, params, gen.PostTransferKudosJSONRequestBody{Username: &to, Amount: &amount}))
}

// AwardKudos creates amount kudos for the user named to, an alias such as "name#1234"
// (POST /v2/kudos/award). Only user 1 may award kudos; others get 403 NotAllowedAwards.
// An award carries no idempotency key, so the client never sends it twice.
func (c *Client) AwardKudos(ctx context.Context, to string, amount int) (*gen.KudosAwarded, error) {
	return bodyOf(c.raw.PostAwardKudosWithResponse(ctx, gen.PostAwardKudosJSONRequestBody{Username: &to, Amount: &amount}))
}

// NewIdempotencyKey returns a random (version 4) UUID for TransferKudosWithKey.
func NewIdempotencyKey() string {
	var b [16]byte
	// crypto/rand.Read never returns an error: it crashes the program instead.
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
