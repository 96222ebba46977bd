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

// queueTimeout bounds POST /prompt.
const queueTimeout = 30 * time.Second

// Wait follows a queued prompt until it ends and returns its history entry. Progress comes from
// the /ws websocket (progress, executed, execution_success, execution_error,
// execution_interrupted); when the socket cannot be opened or drops, Wait reads
// GET /history/{id} instead. progress, when not nil, gets the sampler's steps.
func (c *Client) Wait(ctx context.Context, promptID string, progress func(step, total int)) (HistoryEntry, error) {
	msgs := make(chan wsMessage, 64)
	wsCtx, stopWS := context.WithCancel(ctx)
	defer stopWS()
	go c.listen(wsCtx, msgs, nil)
	return c.follow(ctx, promptID, msgs, progress)
}

// Execute queues a graph and follows it to its end, like Queue then Wait, but with the
// websocket open before the prompt is queued, so that no message of a fast run is missed.
func (c *Client) Execute(ctx context.Context, g Graph, progress func(step, total int)) (string, HistoryEntry, error) {
	msgs := make(chan wsMessage, 64)
	wsCtx, stopWS := context.WithCancel(ctx)
	defer stopWS()
	ready := make(chan struct{})
	go c.listen(wsCtx, msgs, ready)
	select {
	case <-ready: // ComfyUI's first status message, or no socket at all
	case <-ctx.Done():
		return "", HistoryEntry{}, ctx.Err()
	}
	// The prompt is queued on a context that a cancellation does not cut short: once sent, its
	// id must come back, or the caller could not take the prompt off ComfyUI.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queueTimeout)
	id, err := c.Queue(qctx, g)
	cancel()
	if err != nil {
		return "", HistoryEntry{}, err
	}
	if err := ctx.Err(); err != nil {
		return id, HistoryEntry{}, err
	}
	h, err := c.follow(ctx, id, msgs, progress)
	return id, h, err
}

// follow reads the prompt's messages, and its history, until it ends.
func (c *Client) follow(ctx context.Context, promptID string, msgs <-chan wsMessage, progress func(step, total int)) (HistoryEntry, error) {
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
	var images []Output // from executed messages
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
			case "executed":
				images = append(images, m.Images...)
			case "execution_error", "execution_interrupted":
				return HistoryEntry{Done: true, Status: "error"}, failureOf(m.Type, m.Raw)
			case "execution_success":
				// ComfyUI sends this before it stores the history: the executed messages
				// already said where the images are.
				if len(images) > 0 {
					return HistoryEntry{Done: true, Status: "success", Images: images}, nil
				}
			case "executing":
				if m.NodeNull { // the prompt is over and its history stored
					if h, done, err := check(); done || err != nil {
						return h, err
					}
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
	NodeNull   bool     // an executing message for no node: the prompt is over
	Images     []Output // the images of an executed message
	Raw        json.RawMessage
}

// listen reads the websocket until ctx ends or the socket fails, and closes msgs. ready, when
// not nil, is closed once the server's first message arrived or the socket failed.
func (c *Client) listen(ctx context.Context, msgs chan<- wsMessage, ready chan struct{}) {
	defer close(msgs)
	signal := func() {
		if ready != nil {
			close(ready)
			ready = nil
		}
	}
	defer signal()
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
		signal()
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
			PromptID string          `json:"prompt_id"`
			Value    int             `json:"value"`
			Max      int             `json:"max"`
			Node     json.RawMessage `json:"node"`
			Output   struct {
				Images []struct {
					Filename  string `json:"filename"`
					Subfolder string `json:"subfolder"`
					Type      string `json:"type"`
				} `json:"images"`
			} `json:"output"`
		}
		_ = json.Unmarshal(m.Data, &d)
		msg := wsMessage{Type: m.Type, PromptID: d.PromptID, Value: d.Value, Max: d.Max, Raw: m.Data,
			NodeNull: m.Type == "executing" && (len(d.Node) == 0 || string(d.Node) == "null")}
		for _, im := range d.Output.Images {
			if im.Type == "output" {
				msg.Images = append(msg.Images, Output{im.Filename, im.Subfolder, im.Type})
			}
		}
		select {
		case msgs <- msg:
		case <-ctx.Done():
			return
		}
	}
}
