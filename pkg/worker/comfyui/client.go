package comfyui

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// maxAnswer bounds a ComfyUI answer read into memory (images included).
const maxAnswer = 256 << 20

// Client talks to one ComfyUI server's HTTP and websocket API.
type Client struct {
	base     *url.URL
	hc       *http.Client
	clientID string
}

// NewClient returns a client for the ComfyUI at baseURL ("http://127.0.0.1:8188").
func NewClient(baseURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("comfyui: the URL %q is not an http(s) URL", baseURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &Client{base: u, hc: hc, clientID: "horde-go-" + hex.EncodeToString(id[:])}, nil
}

// NodeError is ComfyUI's refusal of a graph (400 from POST /prompt) or a node's failure while
// it ran (execution_error): it names the node and says why.
type NodeError struct {
	Node, Class, Message string
}

func (e *NodeError) Error() string {
	if e.Node == "" {
		return "comfyui: " + e.Message
	}
	return fmt.Sprintf("comfyui: node %s (%s): %s", e.Node, e.Class, e.Message)
}

// Queue sends a graph (POST /prompt) and returns its prompt id. A graph ComfyUI refuses gives a
// *NodeError naming the first failing node.
func (c *Client) Queue(ctx context.Context, g Graph) (string, error) {
	body, err := json.Marshal(map[string]any{"prompt": g, "client_id": c.clientID})
	if err != nil {
		return "", fmt.Errorf("comfyui: encoding the graph: %w", err)
	}
	data, status, err := c.do(ctx, http.MethodPost, "/prompt", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	var ans struct {
		PromptID string `json:"prompt_id"`
		Error    *struct {
			Type, Message, Details string
		} `json:"error"`
		NodeErrors map[string]struct {
			ClassType string `json:"class_type"`
			Errors    []struct {
				Message, Details string
			} `json:"errors"`
		} `json:"node_errors"`
	}
	if err := json.Unmarshal(data, &ans); err != nil {
		return "", fmt.Errorf("comfyui: POST /prompt: %d, not JSON: %s", status, excerpt(data))
	}
	if status == http.StatusOK && ans.PromptID != "" {
		return ans.PromptID, nil
	}
	ids := make([]string, 0, len(ans.NodeErrors))
	for id := range ans.NodeErrors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) > 0 { // the first node by id: the same answer names the same node every time
		id := ids[0]
		ne := ans.NodeErrors[id]
		msg := "invalid"
		if len(ne.Errors) > 0 {
			msg = ne.Errors[0].Message
			if d := ne.Errors[0].Details; d != "" {
				msg += ": " + d
			}
		}
		return "", &NodeError{Node: id, Class: ne.ClassType, Message: msg}
	}
	if ans.Error != nil {
		return "", &NodeError{Message: strings.TrimSpace(ans.Error.Message + " " + ans.Error.Details)}
	}
	return "", fmt.Errorf("comfyui: POST /prompt: %d: %s", status, excerpt(data))
}

// Output is one image a graph saved, as ComfyUI names it.
type Output struct {
	Filename, Subfolder, Type string
}

// HistoryEntry is what GET /history/{id} says of a prompt.
type HistoryEntry struct {
	Done    bool
	Status  string // success, error
	Images  []Output
	Failure *NodeError
}

// History reads a prompt's entry (GET /history/{id}); ok is false while ComfyUI has none (the
// prompt is queued or running).
func (c *Client) History(ctx context.Context, promptID string) (h HistoryEntry, ok bool, err error) {
	data, status, err := c.do(ctx, http.MethodGet, "/history/"+url.PathEscape(promptID), "", nil)
	if err != nil {
		return h, false, err
	}
	if status != http.StatusOK {
		return h, false, fmt.Errorf("comfyui: GET /history: %d: %s", status, excerpt(data))
	}
	var all map[string]struct {
		Outputs map[string]struct {
			Images []struct {
				Filename  string `json:"filename"`
				Subfolder string `json:"subfolder"`
				Type      string `json:"type"`
			} `json:"images"`
		} `json:"outputs"`
		Status struct {
			StatusStr string            `json:"status_str"`
			Completed bool              `json:"completed"`
			Messages  []json.RawMessage `json:"messages"`
		} `json:"status"`
	}
	if err := json.Unmarshal(data, &all); err != nil {
		return h, false, fmt.Errorf("comfyui: GET /history: not JSON: %s", excerpt(data))
	}
	e, ok := all[promptID]
	if !ok {
		return h, false, nil
	}
	h.Status = e.Status.StatusStr
	h.Done = e.Status.Completed || h.Status == "error"
	nodes := make([]string, 0, len(e.Outputs))
	for id := range e.Outputs {
		nodes = append(nodes, id)
	}
	sort.Strings(nodes)
	for _, id := range nodes {
		for _, im := range e.Outputs[id].Images {
			h.Images = append(h.Images, Output{im.Filename, im.Subfolder, im.Type})
		}
	}
	if h.Status == "error" {
		h.Failure = &NodeError{Message: "the prompt failed"}
		for _, raw := range e.Status.Messages {
			var m []json.RawMessage
			if json.Unmarshal(raw, &m) != nil || len(m) != 2 {
				continue
			}
			var kind string
			_ = json.Unmarshal(m[0], &kind)
			if kind == "execution_error" || kind == "execution_interrupted" {
				h.Failure = failureOf(kind, m[1])
			}
		}
	}
	return h, true, nil
}

// failureOf reads an execution_error or execution_interrupted message.
func failureOf(kind string, data json.RawMessage) *NodeError {
	var d struct {
		NodeID           string `json:"node_id"`
		NodeType         string `json:"node_type"`
		ExceptionMessage string `json:"exception_message"`
		ExceptionType    string `json:"exception_type"`
	}
	_ = json.Unmarshal(data, &d)
	if kind == "execution_interrupted" {
		return &NodeError{Node: d.NodeID, Class: d.NodeType, Message: "interrupted"}
	}
	return &NodeError{Node: d.NodeID, Class: d.NodeType, Message: strings.TrimSpace(d.ExceptionType + ": " + d.ExceptionMessage)}
}

// View downloads an output image (GET /view).
func (c *Client) View(ctx context.Context, o Output) ([]byte, error) {
	q := url.Values{"filename": {o.Filename}, "subfolder": {o.Subfolder}, "type": {o.Type}}
	data, status, err := c.do(ctx, http.MethodGet, "/view?"+q.Encode(), "", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("comfyui: GET /view %s: %d", o.Filename, status)
	}
	return data, nil
}

// Upload stores an image in ComfyUI's input folder (POST /upload/image) and returns the name
// to give LoadImage or LoadImageMask.
func (c *Client) Upload(ctx context.Context, name string, image []byte) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("image", name)
	if err != nil {
		return "", err
	}
	_, _ = fw.Write(image)
	_ = mw.WriteField("overwrite", "true")
	if err := mw.Close(); err != nil {
		return "", err
	}
	data, status, err := c.do(ctx, http.MethodPost, "/upload/image", mw.FormDataContentType(), &buf)
	if err != nil {
		return "", err
	}
	var ans struct {
		Name      string `json:"name"`
		Subfolder string `json:"subfolder"`
	}
	if status != http.StatusOK || json.Unmarshal(data, &ans) != nil || ans.Name == "" {
		return "", fmt.Errorf("comfyui: POST /upload/image: %d: %s", status, excerpt(data))
	}
	if ans.Subfolder != "" {
		return ans.Subfolder + "/" + ans.Name, nil
	}
	return ans.Name, nil
}

// Interrupt stops the running prompt (POST /interrupt) and removes queued ones
// (POST /queue {"delete": ids}).
func (c *Client) Interrupt(ctx context.Context, queued ...string) error {
	var errs []error
	if len(queued) > 0 {
		body, _ := json.Marshal(map[string]any{"delete": queued})
		if _, status, err := c.do(ctx, http.MethodPost, "/queue", "application/json", bytes.NewReader(body)); err != nil || status != http.StatusOK {
			errs = append(errs, fmt.Errorf("comfyui: POST /queue delete: %d %v", status, err))
		}
	}
	if _, status, err := c.do(ctx, http.MethodPost, "/interrupt", "application/json", strings.NewReader("{}")); err != nil || status != http.StatusOK {
		errs = append(errs, fmt.Errorf("comfyui: POST /interrupt: %d %v", status, err))
	}
	return errors.Join(errs...)
}

// Embeddings lists the textual inversions ComfyUI has (GET /embeddings).
func (c *Client) Embeddings(ctx context.Context) ([]string, error) {
	data, status, err := c.do(ctx, http.MethodGet, "/embeddings", "", nil)
	if err != nil {
		return nil, err
	}
	var names []string
	if status != http.StatusOK || json.Unmarshal(data, &names) != nil {
		return nil, fmt.Errorf("comfyui: GET /embeddings: %d: %s", status, excerpt(data))
	}
	return names, nil
}

// SystemStats is what GET /system_stats says of the server: its versions and its devices.
type SystemStats struct {
	System struct {
		OS             string `json:"os"`
		ComfyUIVersion string `json:"comfyui_version"`
		PythonVersion  string `json:"python_version"`
		PyTorchVersion string `json:"pytorch_version"`
		RAMTotal       int64  `json:"ram_total"`
		RAMFree        int64  `json:"ram_free"`
	} `json:"system"`
	Devices []struct {
		Name      string `json:"name"`
		Type      string `json:"type"`
		VRAMTotal int64  `json:"vram_total"`
		VRAMFree  int64  `json:"vram_free"`
	} `json:"devices"`
}

// SystemStats reads GET /system_stats.
func (c *Client) SystemStats(ctx context.Context) (SystemStats, error) {
	var st SystemStats
	data, status, err := c.do(ctx, http.MethodGet, "/system_stats", "", nil)
	if err != nil {
		return st, err
	}
	if status != http.StatusOK || json.Unmarshal(data, &st) != nil {
		return st, fmt.Errorf("comfyui: GET /system_stats: %d: %s", status, excerpt(data))
	}
	return st, nil
}

// ObjectInfo reads GET /object_info.
func (c *Client) ObjectInfo(ctx context.Context) (ObjectInfo, error) {
	data, status, err := c.do(ctx, http.MethodGet, "/object_info", "", nil)
	if err != nil {
		return nil, err
	}
	var oi ObjectInfo
	if status != http.StatusOK || json.Unmarshal(data, &oi) != nil {
		return nil, fmt.Errorf("comfyui: GET /object_info: %d: %s", status, excerpt(data))
	}
	return oi, nil
}

func (c *Client) do(ctx context.Context, method, pathQuery, contentType string, body io.Reader) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+pathQuery, body)
	if err != nil {
		return nil, 0, fmt.Errorf("comfyui: %s %s: %w", method, pathQuery, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("comfyui: %s %s: %w", method, strings.SplitN(pathQuery, "?", 2)[0], err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("comfyui: %s %s: reading the answer: %w", method, pathQuery, err)
	}
	return data, resp.StatusCode, nil
}

func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
