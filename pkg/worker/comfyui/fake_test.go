package comfyui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeComfy is a ComfyUI protocol double: the recorded /object_info of a real ComfyUI 0.3.33
// (with model files added, as a server with models has them), graph validation against it as
// ComfyUI validates (node_errors in its shape), the websocket messages of a run in the order a
// real server sends them, /history, /view, uploads, /interrupt and /queue deletion.
type fakeComfy struct {
	t   testing.TB
	srv *httptest.Server

	mu          sync.Mutex
	oi          ObjectInfo
	prompts     []Graph // every graph queued, in order
	history     map[string]map[string]any
	images      map[string][]byte
	uploads     map[string][]byte
	conns       map[string]*websocket.Conn
	failClass   string // a node class that fails at execution time
	hold        chan struct{}
	interrupted []string
	deleted     []string
	noSocket    bool          // refuse /ws, so that clients fall back to /history
	genTime     time.Duration // how long a run takes, as a GPU would
	embeddings  []string
	seq         int
}

type fakeOption func(*fakeComfy)

// withFiles adds model files, as the server's folders would have them.
func withFiles(ckpts, loras []string) fakeOption {
	return func(f *fakeComfy) {
		f.setChoices("CheckpointLoaderSimple", "ckpt_name", ckpts)
		f.setChoices("LoraLoader", "lora_name", loras)
	}
}

// withExtraNodes adds nodes of testdata/object_info_extra.json (written from their source).
func (f *fakeComfy) withExtraNodes(classes ...string) {
	data, err := os.ReadFile("testdata/object_info_extra.json")
	if err != nil {
		f.t.Fatal(err)
	}
	var extra ObjectInfo
	if err := json.Unmarshal(data, &extra); err != nil {
		f.t.Fatal(err)
	}
	for _, class := range classes {
		f.oi[class] = extra[class]
	}
}

// withPostProcessing adds the upscale and face-restore nodes with these model files.
func withPostProcessing(upscalers, faceFixers []string) fakeOption {
	return func(f *fakeComfy) {
		f.withExtraNodes("UpscaleModelLoader", "ImageUpscaleWithModel", "FaceRestoreModelLoader", "FaceRestoreCFWithModel")
		f.setChoices("UpscaleModelLoader", "model_name", upscalers)
		f.setChoices("FaceRestoreModelLoader", "model_name", faceFixers)
	}
}

// withControlNets adds ControlNet model files, and the Canny preprocessor node when asked.
func withControlNets(files []string, preprocessor bool) fakeOption {
	return func(f *fakeComfy) {
		f.setChoices("ControlNetLoader", "control_net_name", files)
		f.setChoices("DiffControlNetLoader", "control_net_name", files)
		if preprocessor {
			f.withExtraNodes("CannyEdgePreprocessor")
		}
	}
}

func withEmbeddings(names ...string) fakeOption {
	return func(f *fakeComfy) { f.embeddings = names }
}

func withoutNode(class string) fakeOption { return func(f *fakeComfy) { delete(f.oi, class) } }
func failingAt(class string) fakeOption   { return func(f *fakeComfy) { f.failClass = class } }
func holding() fakeOption                 { return func(f *fakeComfy) { f.hold = make(chan struct{}) } }
func withoutSocket() fakeOption           { return func(f *fakeComfy) { f.noSocket = true } }

// generatingFor makes every run take d, as a GPU would.
func generatingFor(d time.Duration) fakeOption { return func(f *fakeComfy) { f.genTime = d } }

// loadObjectInfo reads the recorded /object_info.
func loadObjectInfo(t testing.TB) ObjectInfo {
	t.Helper()
	data, err := os.ReadFile("testdata/object_info.json")
	if err != nil {
		t.Fatal(err)
	}
	var oi ObjectInfo
	if err := json.Unmarshal(data, &oi); err != nil {
		t.Fatal(err)
	}
	return oi
}

func newFakeComfy(t testing.TB, opts ...fakeOption) *fakeComfy {
	f := &fakeComfy{t: t, oi: loadObjectInfo(t), history: map[string]map[string]any{}, images: map[string][]byte{},
		uploads: map[string][]byte{}, conns: map[string]*websocket.Conn{}}
	for _, o := range opts {
		o(f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /object_info", f.objectInfo)
	mux.HandleFunc("POST /prompt", f.prompt)
	mux.HandleFunc("GET /history/{id}", f.historyOf)
	mux.HandleFunc("GET /view", f.view)
	mux.HandleFunc("POST /upload/image", f.upload)
	mux.HandleFunc("POST /interrupt", f.interrupt)
	mux.HandleFunc("POST /queue", f.queue)
	mux.HandleFunc("GET /ws", f.ws)
	mux.HandleFunc("GET /system_stats", func(w http.ResponseWriter, _ *http.Request) {
		data, err := os.ReadFile("testdata/system_stats.json") // recorded
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	})
	mux.HandleFunc("GET /embeddings", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, f.embeddings) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.release()
		f.srv.Close()
	})
	return f
}

// setChoices replaces a COMBO input's choices in the object info.
func (f *fakeComfy) setChoices(class, input string, choices []string) {
	n := f.oi[class]
	raw := n.Input.Required[input]
	var parts []json.RawMessage
	_ = json.Unmarshal(raw, &parts)
	c, _ := json.Marshal(choices)
	parts[0] = c
	n.Input.Required[input], _ = json.Marshal(parts)
	f.oi[class] = n
}

func (f *fakeComfy) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
}

func (f *fakeComfy) objectInfo(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.oi)
}

// decodeGraph reads an API-format graph, links as Link.
func decodeGraph(raw json.RawMessage) (Graph, error) {
	var g Graph
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, err
	}
	for id, n := range g {
		for k, v := range n.Inputs {
			if a, ok := v.([]any); ok && len(a) == 2 {
				node, ok1 := a[0].(string)
				idx, ok2 := a[1].(float64)
				if ok1 && ok2 {
					n.Inputs[k] = Link{Node: node, Output: int(idx)}
				}
			} else if x, ok := v.(float64); ok && x == float64(int64(x)) {
				n.Inputs[k] = int64(x)
			}
		}
		g[id] = n
	}
	return g, nil
}

func (f *fakeComfy) prompt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prompt   json.RawMessage `json:"prompt"`
		ClientID string          `json:"client_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Prompt == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "no_prompt", "message": "No prompt provided", "details": "", "extra_info": map[string]any{}}, "node_errors": map[string]any{}})
		return
	}
	g, err := decodeGraph(body.Prompt)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_prompt", "message": err.Error()}, "node_errors": map[string]any{}})
		return
	}
	f.mu.Lock()
	verr := f.oi.Validate(g)
	f.prompts = append(f.prompts, g)
	f.seq++
	id := fmt.Sprintf("prompt-%04d", f.seq)
	hold := f.hold
	f.mu.Unlock()
	if verr != nil {
		f.t.Errorf("ComfyUI would refuse the graph: %v\n%s", verr, g)
		// The shape of ComfyUI's answer (recorded: error_bad_input_value.json).
		nid, _, _ := g.nodeOf(g[g.ids()[0]].ClassType)
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": map[string]any{"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "details": "", "extra_info": map[string]any{}},
			"node_errors": map[string]any{nid: map[string]any{"errors": []map[string]any{{"type": "invalid", "message": verr.Error(), "details": "", "extra_info": map[string]any{}}},
				"dependent_outputs": []string{}, "class_type": g[nid].ClassType}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"prompt_id": id, "number": f.seq, "node_errors": map[string]any{}})
	go f.execute(id, body.ClientID, g, hold)
}

// execute runs a prompt as a real server reports it, over the websocket and in /history.
func (f *fakeComfy) execute(id, client string, g Graph, hold chan struct{}) {
	send := func(typ string, data map[string]any) {
		data["prompt_id"] = id
		f.mu.Lock()
		c := f.conns[client]
		f.mu.Unlock()
		if c != nil {
			msg, _ := json.Marshal(map[string]any{"type": typ, "data": data})
			_ = c.Write(context.Background(), websocket.MessageText, msg)
		}
	}
	send("execution_start", map[string]any{"timestamp": 1})
	if hold != nil {
		<-hold
	}
	if f.genTime > 0 {
		time.Sleep(f.genTime) // the simulated GPU's work, not a wait for state
	}
	f.mu.Lock()
	interrupted := containsStr(f.interrupted, id) || len(f.interrupted) > 0 && f.interrupted[len(f.interrupted)-1] == "*"
	f.mu.Unlock()
	var saveID string
	var w, h int
	var seed uint64
	var loaded, saved []byte // the last image loaded; what a safety node passed on
	for _, nid := range g.ids() {
		n := g[nid]
		if interrupted {
			send("execution_interrupted", map[string]any{"node_id": nid, "node_type": n.ClassType, "executed": []string{}})
			f.finish(id, nil, []any{"execution_interrupted", map[string]any{"prompt_id": id, "node_id": nid, "node_type": n.ClassType}})
			return
		}
		send("executing", map[string]any{"node": nid, "display_node": nid})
		if n.ClassType == f.failClass {
			e := map[string]any{"prompt_id": id, "node_id": nid, "node_type": n.ClassType, "executed": []string{},
				"exception_message": "index 3 is out of bounds for dimension 3 with size 3", "exception_type": "IndexError", "traceback": []string{}}
			send("execution_error", e)
			f.finish(id, nil, []any{"execution_error", e})
			return
		}
		switch n.ClassType {
		case "EmptyLatentImage", "ImageScale":
			w, h = asInt(n.Inputs["width"]), asInt(n.Inputs["height"])
		case "LoadImage":
			f.mu.Lock()
			src := f.uploads[n.Inputs["image"].(string)]
			f.mu.Unlock()
			if cfg, _, err := image.DecodeConfig(bytes.NewReader(src)); err == nil {
				w, h = cfg.Width, cfg.Height
			}
			loaded = src
		case "HordeTestRemoveBackground":
			// The stand-in background remover: the image with a transparent top-left corner.
			base := loaded
			if base == nil { // after a generation: the image it made
				base = fakePNG(w, h, seed)
			}
			if im, _, err := image.Decode(bytes.NewReader(base)); err == nil {
				rgba := image.NewNRGBA(im.Bounds())
				draw.Draw(rgba, rgba.Bounds(), im, im.Bounds().Min, draw.Src)
				rgba.SetNRGBA(0, 0, color.NRGBA{})
				var buf bytes.Buffer
				_ = png.Encode(&buf, rgba)
				saved = buf.Bytes()
			}
		case "HordeTestSafetyBlackout":
			// The stand-in classifier: a mostly red image is unsafe, and comes back black.
			saved = loaded
			if im, _, err := image.Decode(bytes.NewReader(loaded)); err == nil {
				if r, g, _, _ := im.At(0, 0).RGBA(); r>>8 > 200 && g>>8 < 50 {
					saved = fakePNG(w, h, 0)
				}
			}
		case "ImageUpscaleWithModel":
			// The model's scale, as its file says (x2 or 2x, else 4).
			file := strings.ToLower(g[n.Inputs["upscale_model"].(Link).Node].Inputs["model_name"].(string))
			factor := 4
			if strings.Contains(file, "x2") || strings.Contains(file, "2x") {
				factor = 2
			}
			w, h = w*factor, h*factor
		case "KSampler":
			seed = uint64(asInt(n.Inputs["seed"]))
			steps := asInt(n.Inputs["steps"])
			send("progress", map[string]any{"value": steps, "max": steps, "node": nid})
		case "SaveImage":
			saveID = nid
		}
	}
	name := fmt.Sprintf("%s_%05d_.png", g[saveID].Inputs["filename_prefix"], 1)
	f.mu.Lock()
	f.images[name] = fakePNG(w, h, seed)
	if saved != nil {
		f.images[name] = saved
	}
	f.mu.Unlock()
	out := map[string]any{saveID: map[string]any{"images": []map[string]any{{"filename": name, "subfolder": "", "type": "output"}}}}
	send("executed", map[string]any{"node": saveID, "display_node": saveID, "output": out[saveID]})
	// As ComfyUI does: success first, then the history is stored, then "executing" for no node.
	send("execution_success", map[string]any{"timestamp": 2})
	f.finish(id, out, []any{"execution_success", map[string]any{"prompt_id": id}})
	send("executing", map[string]any{"node": nil})
}

func (f *fakeComfy) finish(id string, outputs map[string]any, last []any) {
	status := "success"
	if last[0] != "execution_success" {
		status = "error"
	}
	if outputs == nil {
		outputs = map[string]any{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.history[id] = map[string]any{"prompt": []any{}, "outputs": outputs, "meta": map[string]any{},
		"status": map[string]any{"status_str": status, "completed": status == "success",
			"messages": []any{[]any{"execution_start", map[string]any{"prompt_id": id}}, last}}}
}

func (f *fakeComfy) historyOf(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	e, ok := f.history[id]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{id: e})
}

func (f *fakeComfy) view(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	data, ok := f.images[r.URL.Query().Get("filename")]
	f.mu.Unlock()
	if !ok || r.URL.Query().Get("type") != "output" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(data)
}

func (f *fakeComfy) upload(w http.ResponseWriter, r *http.Request) {
	file, hdr, err := r.FormFile("image")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(file)
	f.mu.Lock()
	f.uploads[hdr.Filename] = data
	// The server lists its input folder in LoadImage's and LoadImageMask's choices.
	files := []string{"example.png"}
	for name := range f.uploads {
		files = append(files, name)
	}
	f.setChoices("LoadImage", "image", files)
	f.setChoices("LoadImageMask", "image", files)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"name": hdr.Filename, "subfolder": "", "type": "input"})
}

func (f *fakeComfy) interrupt(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	f.interrupted = append(f.interrupted, "*")
	f.mu.Unlock()
	f.release()
	w.WriteHeader(http.StatusOK)
}

func (f *fakeComfy) queue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Delete []string `json:"delete"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.deleted = append(f.deleted, body.Delete...)
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *fakeComfy) ws(w http.ResponseWriter, r *http.Request) {
	if f.noSocket {
		http.Error(w, "no websocket here", http.StatusServiceUnavailable)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	client := r.URL.Query().Get("clientId")
	f.mu.Lock()
	f.conns[client] = c
	f.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"type": "status", "data": map[string]any{"status": map[string]any{"exec_info": map[string]any{"queue_remaining": 0}}, "sid": client}})
	_ = c.Write(r.Context(), websocket.MessageText, msg)
	// Hold the connection until the client goes.
	_, _, _ = c.Read(r.Context())
	f.mu.Lock()
	delete(f.conns, client)
	f.mu.Unlock()
}

func (f *fakeComfy) queued() []Graph {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Graph(nil), f.prompts...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func asInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case uint64:
		return int(x)
	case float64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}

func containsStr(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// fakePNG is the image a fake run saves: its size, a colour from the seed.
func fakePNG(w, h int, seed uint64) []byte {
	if w <= 0 || h <= 0 {
		w, h = 64, 64
	}
	im := image.NewRGBA(image.Rect(0, 0, w, h))
	c := color.RGBA{uint8(seed), uint8(seed >> 8), uint8(seed >> 16), 255}
	for y := range h {
		for x := range w {
			im.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, im)
	return buf.Bytes()
}

type jsonRaw = json.RawMessage

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
