package hordetest

import (
	"fmt"
	"strings"

	"github.com/horde-go/horde/gen"
)

const helpRegisteredKey = "The API Key corresponding to a registered user."

var samplerNames = []string{"k_lms", "k_heun", "k_euler", "k_euler_a", "k_dpm_2", "k_dpm_2_a", "k_dpm_fast",
	"k_dpm_adaptive", "k_dpmpp_2s_a", "k_dpmpp_2m", "dpmsolver", "k_dpmpp_sde", "DDIM", "lcm"}

func (s *Server) routes(add func(method, path, op string, h handlerFunc)) {
	add("GET", "/v2/status/heartbeat", "get_heartbeat", s.handleHeartbeat)
	add("GET", "/v2/find_user", "get_find_user", s.handleFindUser)
	add("GET", "/v2/users", "get_users", s.handleUsers)
	add("GET", "/v2/users/{user_id}", "get_user_single", s.handleUserSingle)
	add("POST", "/v2/generate/async", "post_image_async_generate", s.handleImageAsync)
	add("GET", "/v2/generate/check/{id}", "get_image_async_check", s.handleImageCheck)
	add("GET", "/v2/generate/status/{id}", "get_image_async_status", s.handleImageStatus)
	add("DELETE", "/v2/generate/status/{id}", "delete_image_async_status", s.handleImageCancel)
	add("POST", "/v2/generate/pop", "post_image_job_pop", s.handleImagePop)
	add("POST", "/v2/generate/submit", "post_image_job_submit", s.handleImageSubmit)
	add("POST", "/v2/generate/text/async", "post_text_async_generate", s.handleTextAsync)
	add("GET", "/v2/generate/text/status/{id}", "get_text_async_status", s.handleTextStatus)
	add("DELETE", "/v2/generate/text/status/{id}", "delete_text_async_status", s.handleTextCancel)
	add("POST", "/v2/generate/text/pop", "post_text_job_pop", s.handleTextPop)
	add("POST", "/v2/generate/text/submit", "post_text_job_submit", s.handleTextSubmit)
	add("POST", "/v2/interrogate/async", "post_interrogate", s.handleInterrogateAsync)
	add("GET", "/v2/interrogate/status/{id}", "get_interrogation_status", s.handleInterrogateStatus)
	add("DELETE", "/v2/interrogate/status/{id}", "delete_interrogation_status", s.handleInterrogateCancel)
	add("POST", "/v2/interrogate/pop", "post_interrogate_pop", s.handleInterrogatePop)
	add("POST", "/v2/interrogate/submit", "post_interrogate_submit", s.handleInterrogateSubmit)
	add("GET", "/v2/workers", "get_workers", s.handleWorkers)
	add("GET", "/v2/workers/{worker_id}", "get_worker_single", s.handleWorkerSingle)
	add("PUT", "/v2/workers/{worker_id}", "put_worker_single", s.handleWorkerPut)
	add("GET", "/v2/workers/name/{worker_name}", "get_worker_single_name", s.handleWorkerByName)
	add("POST", "/v2/kudos/transfer", "post_transfer_kudos", s.handleTransfer)
	add("GET", "/v2/status/models", "get_models", s.handleModels)
	add("GET", "/v2/status/models/{model_name}", "get_model_single", s.handleModelSingle)
	add("GET", "/v2/status/modes", "get_horde_modes", s.handleModes)
	add("GET", "/v2/status/news", "get_horde_news", s.handleNews)
	add("GET", "/v2/status/performance", "get_horde_load", s.handlePerformance)
	add("GET", "/v2/stats/img/totals", "get_image_horde_stats_totals", s.handleImgTotals)
	add("GET", "/v2/stats/img/models", "get_image_horde_stats_models", s.handleImgModels)
	add("GET", "/v2/stats/text/totals", "get_text_horde_stats_totals", s.handleTextTotals)
	add("GET", "/v2/stats/text/models", "get_text_horde_stats_models", s.handleTextModels)
	s.styleRoutes(add)
	s.extRoutes(add)
}

func (s *Server) styleRoutes(add func(method, path, op string, h handlerFunc)) {
	add("GET", "/v2/styles/image", "get_image_style", s.handleImageStyles)
	add("POST", "/v2/styles/image", "post_image_style", s.handleImageStylePost)
	add("GET", "/v2/styles/image/{style_id}", "get_single_image_style", s.handleImageStyleGet)
	add("PATCH", "/v2/styles/image/{style_id}", "patch_single_image_style", s.handleImageStylePatch)
	add("DELETE", "/v2/styles/image/{style_id}", "delete_single_image_style", s.handleStyleDelete)
	add("GET", "/v2/styles/image_by_name/{style_name}", "get_single_image_style_by_name", s.handleImageStyleByName)
	add("POST", "/v2/styles/image/{style_id}/example", "post_image_style_example", s.handleStyleExamplePost)
	add("PATCH", "/v2/styles/image/{style_id}/example/{example_id}", "patch_single_image_style_example", s.handleStyleExamplePatch)
	add("DELETE", "/v2/styles/image/{style_id}/example/{example_id}", "delete_single_image_style_example", s.handleStyleExampleDelete)
	add("GET", "/v2/styles/text", "get_text_style", s.handleTextStyles)
	add("POST", "/v2/styles/text", "post_text_style", s.handleTextStylePost)
	add("GET", "/v2/styles/text/{style_id}", "get_single_text_style", s.handleTextStyleGet)
	add("PATCH", "/v2/styles/text/{style_id}", "patch_single_text_style", s.handleTextStylePatch)
	add("DELETE", "/v2/styles/text/{style_id}", "delete_single_text_style", s.handleStyleDelete)
	add("GET", "/v2/styles/text_by_name/{style_name}", "get_single_text_style_by_name", s.handleTextStyleByName)
	add("GET", "/v2/collections", "get_collection", s.handleCollections)
	add("POST", "/v2/collections", "post_collection", s.handleCollectionPost)
	add("GET", "/v2/collections/{collection_id}", "get_single_collection", s.handleCollectionGet)
	add("PATCH", "/v2/collections/{collection_id}", "patch_single_collection", s.handleCollectionPatch)
	add("DELETE", "/v2/collections/{collection_id}", "delete_single_collection", s.handleCollectionDelete)
	add("GET", "/v2/collection_by_name/{collection_name}", "get_single_collection_by_name", s.handleCollectionByName)
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func pyList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func intRange(field string, v, min, max int) *apiError {
	if v < min {
		return validationErr(field, fmt.Sprintf("%d is less than the minimum of %d", v, min))
	}
	if v > max {
		return validationErr(field, fmt.Sprintf("%d is greater than the maximum of %d", v, max))
	}
	return nil
}

// optRange is intRange for an optional field: an absent value passes.
func optRange(field string, v *int, min, max int) *apiError {
	if v == nil {
		return nil
	}
	return intRange(field, *v, min, max)
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

func isPostProcessor(name string) bool {
	switch name {
	case "GFPGAN", "GFPGANv1.3", "RealESRGAN_x4plus", "RealESRGAN_x2plus", "RealESRGAN_x4plus_anime_6B", "NMKD_Siax",
		"4x_AnimeSharp", "strip_background", "CodeFormers", "RestoreFormer", "2xModernSpanimationV1", "4xLSDIRplus",
		"4xNomos2_hq_dat2", "4xNomos2_realplksr_dysample", "4xNomos8kSC", "4xNomosWebPhoto_RealPLKSR":
		return true
	}
	return false
}

func isUpscaler(pp gen.PostProcessor) bool {
	n := string(pp)
	return strings.Contains(n, "ESRGAN") || strings.HasPrefix(n, "2x") || strings.HasPrefix(n, "4x") || n == "NMKD_Siax"
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
