package hordetest

import (
	"net/http"

	"github.com/horde-go/horde/gen"
)

// simDocuments are the simulator's own stand-ins for the server's terms of service, privacy
// policy and sponsors pages, as markdown; html is rendered from them.
var simDocuments = map[string][2]string{
	"terms": {"Terms of Service", "This is the hordetest simulator, not an AI Horde. " +
		"It keeps nothing beyond the test that started it and promises nothing about the images or text it makes up."},
	"privacy": {"Privacy Policy", "The hordetest simulator runs inside a test process. " +
		"Requests, keys and addresses stay in memory and are gone when the server closes."},
	"sponsors": {"Sponsors", "The hordetest simulator has no sponsors. " +
		"The AI Horde is run by volunteers: see https://aihorde.net."},
}

func (s *Server) handleDocument(name string) handlerFunc {
	return func(r *http.Request) (int, any) {
		format := "html"
		if r.URL.Query().Has("format") {
			format = r.URL.Query().Get("format")
		}
		if format != "html" && format != "markdown" {
			return 0, herr(http.StatusBadRequest, "BadRequest", "'format' needs to be one of ['html', 'markdown']")
		}
		doc := simDocuments[name]
		if format == "markdown" {
			return http.StatusOK, gen.HordeDocument{Markdown: ptr("# " + doc[0] + "\n\n" + doc[1])}
		}
		return http.StatusOK, gen.HordeDocument{HTML: ptr("<h1>" + doc[0] + "</h1>\n<p>" + doc[1] + "</p>")}
	}
}
