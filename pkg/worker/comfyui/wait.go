package comfyui

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// historyPoll is how often the prompt's history is read while waiting: the fallback when the
// websocket is down, and a check that no end message was missed.
const historyPoll = time.Second

// Wait follows a queued prompt until it ends and returns its history entry. Progress comes from
// the /ws websocket (progress, executed, execution_success, execution_error,
// execution_interrupted); when the socket cannot be opened or drops, Wait reads
// GET /history/{id} instead. progress, when not nil, gets the sampler's steps.
func (c *Client) Wait(ctx context.Context, promptID string, progress func(step, total int)) (HistoryEntry, error) {
	msgs := make(chan wsMessage, 64)
	wsCtx, stopWS := context.WithCancel(ctx)
	defer stopWS()
	go c.listen(wsCtx, msgs)
	tick := time.NewTicker(historyPoll)
	defer tick.Stop()
	check := func() (HistoryEntry, bool, error) {
		h, ok, err := c.History(ctx, promptID)
		if err != nil || !ok || !h.Done {
			return h, false, err
		}
		if h.Failure != nil {
			return h, true, h.Failure
		}
		return h, true, nil
	}
	for {
		select {
		case <-ctx.Done():
			return HistoryEntry{}, ctx.Err()
		case m, open := <-msgs:
			if !open {
				msgs = nil // the socket is gone: the ticker's history reads carry on
				continue
			}
			if m.PromptID != promptID {
				continue
			}
			switch m.Type {
			case "progress":
				if progress != nil {
					progress(m.Value, m.Max)
				}
			case "execution_error", "execution_interrupted":
				return HistoryEntry{Done: true, Status: "error"}, failureOf(m.Type, m.Raw)
			case "execution_success":
				if h, done, err := check(); done || err != nil {
					return h, err
				}
			}
		case <-tick.C:
			if h, done, err := check(); done || err != nil {
				return h, err
			}
		}
	}
}

// wsMessage is the part of a ComfyUI websocket message that Wait reads.
type wsMessage struct {
	Type       string
	PromptID   string
	Value, Max int
	Raw        json.RawMessage
}

// listen reads the websocket until ctx ends or the socket fails, and closes msgs.
func (c *Client) listen(ctx context.Context, msgs chan<- wsMessage) {
	defer close(msgs)
	u := *c.base
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path += "/ws"
	u.RawQuery = "clientId=" + c.clientID
	conn, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPClient: c.hc})
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20) // previews are binary frames of a few hundred KB
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue // previews
		}
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		var d struct {
			PromptID string `json:"prompt_id"`
			Value    int    `json:"value"`
			Max      int    `json:"max"`
		}
		_ = json.Unmarshal(m.Data, &d)
		select {
		case msgs <- wsMessage{Type: m.Type, PromptID: d.PromptID, Value: d.Value, Max: d.Max, Raw: m.Data}:
		case <-ctx.Done():
			return
		}
	}
}
