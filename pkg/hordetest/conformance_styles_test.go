package hordetest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type stepFunc func(method, path, key string, body any, want int) resp

// driveStyles exercises every style and collection operation, and a request applying a style,
// for TestConformanceEveryOperation. Each call waits a second of the fake clock so the routes'
// 2-per-second limits never answer.
func driveStyles(t *testing.T, clk *FakeClock, step stepFunc) {
	t.Helper()
	do := func(method, path, key string, body any, want int) resp {
		t.Helper()
		clk.Advance(time.Second)
		return step(method, path, key, body, want)
	}
	const unknown = "00000000-0000-4000-8000-000000000000"
	imgBody := map[string]any{"name": "drive img", "info": "a style for the drive", "prompt": "{p}, oil###{np}",
		"params": map[string]any{"steps": 20, "width": 768}, "models": []string{"stable_diffusion"}, "tags": []string{"oil"}}
	do("POST", "v2/styles/image", keyAlice, imgBody, http.StatusForbidden)
	img := do("POST", "v2/styles/image", keyWorker, imgBody, http.StatusOK).str("id")
	require.NotEmpty(t, img)
	do("POST", "v2/styles/image", keyWorker, imgBody, http.StatusBadRequest)
	do("POST", "v2/styles/image", keyWorker, map[string]any{"name": "no models", "info": "a style without models"}, http.StatusBadRequest)
	do("GET", "v2/styles/image", "", nil, http.StatusOK)
	do("GET", "v2/styles/image?sort=age&tag=oil", "", nil, http.StatusOK)
	do("GET", "v2/styles/image?sort=new", "", nil, http.StatusBadRequest)
	do("GET", "v2/styles/image/"+img, "", nil, http.StatusOK)
	do("GET", "v2/styles/image_by_name/drive img", "", nil, http.StatusOK)
	do("GET", "v2/styles/image_by_name/nothing", "", nil, http.StatusNotFound)
	patch := map[string]any{"name": "drive img", "info": "a patched style", "prompt": "{p}, pastel###{np}",
		"params": map[string]any{"steps": 25}, "tags": []string{"pastel"}}
	do("PATCH", "v2/styles/image/"+img, keyWorker, patch, http.StatusOK)
	do("PATCH", "v2/styles/image/"+img, keyBob, patch, http.StatusForbidden)
	do("PATCH", "v2/styles/image/"+img, keyWorker, map[string]any{"info": "no name in this patch"}, http.StatusBadRequest)
	do("PATCH", "v2/styles/image/"+unknown, keyWorker, patch, http.StatusNotFound)

	ex := "v2/styles/image/" + img + "/example"
	ex1 := do("POST", ex, keyWorker, map[string]any{"url": "https://example.org/1.webp", "primary": false}, http.StatusOK).str("id")
	ex2 := do("POST", ex, keyWorker, map[string]any{"url": "https://example.org/2.webp", "primary": true}, http.StatusOK).str("id")
	do("POST", ex, keyWorker, map[string]any{"url": "https://example.org/2.webp", "primary": false}, http.StatusBadRequest)
	do("POST", ex, keyWorker, map[string]any{"url": "http://example.org/3.webp", "primary": false}, http.StatusBadRequest)
	do("POST", ex, keyBob, map[string]any{"url": "https://example.org/3.webp", "primary": false}, http.StatusForbidden)
	do("PATCH", ex+"/"+ex1, keyWorker, map[string]any{"url": "https://example.org/1b.webp", "primary": true}, http.StatusOK)
	do("PATCH", ex+"/"+ex1, keyWorker, map[string]any{"primary": true}, http.StatusBadRequest)
	do("PATCH", ex+"/"+unknown, keyWorker, map[string]any{"url": "https://example.org/4.webp"}, http.StatusNotFound)
	do("DELETE", ex+"/"+ex2, keyWorker, nil, http.StatusOK)
	do("DELETE", ex+"/"+ex2, keyWorker, nil, http.StatusNotFound)

	txtBody := map[string]any{"name": "drive txt", "info": "a text style for the drive", "prompt": "Story: {p}",
		"params": map[string]any{"temperature": 0.7}, "models": []string{"hordetest/text"}}
	txt := do("POST", "v2/styles/text", keyWorker, txtBody, http.StatusOK).str("id")
	do("POST", "v2/styles/text", keyWorker, map[string]any{"name": "t2", "prompt": "none", "models": []string{"m"}}, http.StatusBadRequest)
	do("GET", "v2/styles/text", "", nil, http.StatusOK)
	do("GET", "v2/styles/text/"+txt, "", nil, http.StatusOK)
	do("GET", "v2/styles/text/"+img, "", nil, http.StatusBadRequest)
	do("GET", "v2/styles/text_by_name/drive txt", "", nil, http.StatusOK)
	do("GET", "v2/styles/text_by_name/drive img", "", nil, http.StatusBadRequest)
	do("PATCH", "v2/styles/text/"+txt, keyWorker, map[string]any{"name": "drive txt", "prompt": "Tale: {p} {np}"}, http.StatusInternalServerError)
	do("PATCH", "v2/styles/text/"+txt, "", map[string]any{"name": "drive txt"}, http.StatusBadRequest)

	col := do("POST", "v2/collections", keyWorker, map[string]any{"name": "drive col", "info": "a collection", "styles": []string{"drive img"}}, http.StatusOK).str("id")
	do("POST", "v2/collections", AnonymousAPIKey, map[string]any{"name": "anon col", "styles": []string{"drive img"}}, http.StatusForbidden)
	do("POST", "v2/collections", keyWorker, map[string]any{"name": "empty col", "styles": []string{}}, http.StatusBadRequest)
	do("POST", "v2/collections", keyWorker, map[string]any{"name": "mixed", "styles": []string{"drive img", "drive txt"}}, http.StatusBadRequest)
	do("GET", "v2/collections", "", nil, http.StatusOK)
	do("GET", "v2/collections?type=video", "", nil, http.StatusBadRequest)
	do("GET", "v2/collections/"+col, "", nil, http.StatusOK)
	do("GET", "v2/collections/"+unknown, "", nil, http.StatusNotFound)
	do("GET", "v2/collection_by_name/drive col", "", nil, http.StatusOK)
	do("GET", "v2/collection_by_name/nothing", "", nil, http.StatusNotFound)
	do("PATCH", "v2/collections/"+col, keyWorker, map[string]any{"styles": []string{"drive img"}, "public": false}, http.StatusOK)
	do("PATCH", "v2/collections/"+col, keyWorker, map[string]any{"info": "no styles named"}, http.StatusBadRequest)
	do("PATCH", "v2/collections/"+col, keyBob, map[string]any{"styles": []string{"drive img"}}, http.StatusForbidden)

	do("POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "a cat###blurry", "style": img}, http.StatusAccepted)
	do("POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "a dog", "style": "drive col"}, http.StatusAccepted)
	do("POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "a dog", "style": txt}, http.StatusBadRequest)
	do("POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "a dragon", "style": "drive txt"}, http.StatusAccepted)

	do("DELETE", "v2/collections/"+col, keyBob, nil, http.StatusForbidden)
	do("DELETE", "v2/collections/"+col, keyWorker, nil, http.StatusOK)
	do("DELETE", "v2/styles/image/"+img, keyBob, nil, http.StatusForbidden)
	do("DELETE", "v2/styles/image/"+img, AnonymousAPIKey, nil, http.StatusForbidden)
	do("DELETE", "v2/styles/image/"+img, keyMod, nil, http.StatusOK)
	do("DELETE", "v2/styles/text/"+txt, keyWorker, nil, http.StatusOK)
	do("DELETE", "v2/styles/text/"+txt, keyWorker, nil, http.StatusNotFound)
}
