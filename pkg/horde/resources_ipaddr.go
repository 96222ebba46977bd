package horde

import (
	"context"

	"github.com/horde-go/horde/gen"
)

// IP timeouts: moderators put an IP address (or a worker's IP) in a timeout that blocks its
// requests. Every method here needs a moderator's key.

// IPTimeouts lists the IP addresses in a timeout (GET /v2/operations/ipaddr).
func (c *Client) IPTimeouts(ctx context.Context) ([]gen.IPTimeout, error) {
	return listOf(c.raw.GetOperationsIPWithResponse(ctx))
}

// IPTimeout returns the timeout of one IP address or CIDR block
// (GET /v2/operations/ipaddr/{ipaddr}).
func (c *Client) IPTimeout(ctx context.Context, ipaddr string) ([]gen.IPTimeout, error) {
	return listOf(c.raw.GetOperationsIPSingleWithResponse(ctx, ipaddr))
}

// AddIPTimeout puts an IP address or CIDR block in a timeout (POST /v2/operations/ipaddr).
func (c *Client) AddIPTimeout(ctx context.Context, in gen.AddTimeoutIPInput) (*gen.SimpleResponse, error) {
	return bodyOf(c.raw.PostOperationsIPWithResponse(ctx, in))
}

// DeleteIPTimeout lifts the timeout of an IP address (DELETE /v2/operations/ipaddr).
func (c *Client) DeleteIPTimeout(ctx context.Context, in gen.DeleteTimeoutIPInput) (*gen.SimpleResponse, error) {
	return bodyOf(c.raw.DeleteOperationsIPWithResponse(ctx, in))
}

// BlockWorkerIP puts the IP address of a worker in a timeout
// (PUT /v2/operations/block_worker_ipaddr/{worker_id}).
func (c *Client) BlockWorkerIP(ctx context.Context, workerID string, in gen.AddWorkerTimeout) (*gen.SimpleResponse, error) {
	return bodyOf(c.raw.PutOperationsBlockWorkerIPWithResponse(ctx, workerID, in))
}

// UnblockWorkerIP lifts the timeout of a worker's IP address
// (DELETE /v2/operations/block_worker_ipaddr/{worker_id}).
func (c *Client) UnblockWorkerIP(ctx context.Context, workerID string) (*gen.SimpleResponse, error) {
	return bodyOf(c.raw.DeleteOperationsBlockWorkerIPWithResponse(ctx, workerID))
}
