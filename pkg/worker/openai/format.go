package openai

import (
	"strings"

	"github.com/horde-go/horde/pkg/params"
)

// specialChars are the characters KoboldAI's frmtrmspch removes.
const specialChars = "#/@%}{+=~|^<>"

// applyFormat applies the KoboldAI output formatting flags, which no OpenAI-compatible server
// knows, to a generated text: singleline, frmtrmblln, frmtrmspch and frmttriminc, in this
// order. frmtadsnsp concerns the input and is not applied.
func applyFormat(text string, f params.TextFormat) string {
	if isSet(f.SingleLine) {
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[:i]
		}
	}
	if isSet(f.RemoveBlankLines) {
		for strings.Contains(text, "\n\n") {
			text = strings.ReplaceAll(text, "\n\n", "\n")
		}
	}
	if isSet(f.RemoveSpecialChars) {
		text = strings.Map(func(r rune) rune {
			if strings.ContainsRune(specialChars, r) {
				return -1
			}
			return r
		}, text)
	}
	if isSet(f.TrimIncomplete) {
		text = trimIncomplete(text)
	}
	return text
}

// trimIncomplete cuts text after its last sentence end (. ! ? or a newline, with any closing
// quotes or brackets right after it). A text with no sentence end is kept whole.
func trimIncomplete(text string) string {
	end := strings.LastIndexAny(text, ".!?\n")
	if end < 0 {
		return text
	}
	end++
	for end < len(text) && strings.IndexByte(`"')]*`, text[end]) >= 0 {
		end++
	}
	return text[:end]
}

func isSet(b *bool) bool { return b != nil && *b }
