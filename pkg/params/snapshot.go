package params

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"sync"
)

//go:embed snapshot/*.json.gz
var snapshotFS embed.FS

// The snapshots are parsed once, on first use; the references are read-only after loading.
var (
	imageSnapshot = sync.OnceValues(func() (*ImageModelReference, error) {
		return loadSnapshot("stable_diffusion.json.gz", LoadImageModelReference)
	})
	textSnapshot = sync.OnceValues(func() (*TextModelReference, error) {
		return loadSnapshot("text_generation.json.gz", LoadTextModelReference)
	})
)

func loadSnapshot[R any](name string, load func(io.Reader) (*ModelReference[R], error)) (*ModelReference[R], error) {
	data, err := snapshotFS.ReadFile("snapshot/" + name)
	if err != nil {
		return nil, fmt.Errorf("model reference snapshot %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("model reference snapshot %s: %w", name, err)
	}
	defer zr.Close()
	return load(zr)
}

// SnapshotImageModelReference returns the image model reference embedded in the module (the
// upstream stable_diffusion.json of June 2026). It is parsed once and shared: treat it as
// read-only. Programs that must follow the Horde's current models load or fetch the live one
// ([FetchImageModelReference]).
func SnapshotImageModelReference() (*ImageModelReference, error) { return imageSnapshot() }

// SnapshotTextModelReference returns the text model reference embedded in the module (the
// upstream text db.json of June 2026), parsed once and shared; treat it as read-only.
func SnapshotTextModelReference() (*TextModelReference, error) { return textSnapshot() }
