package hordetest

import (
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/internal/bridgeagent"
)

const (
	kindImage         = "image"
	kindText          = "text"
	kindInterrogation = "interrogation"
)

const (
	jobProcessing = iota
	jobDone
	jobFaulted
)

type worker struct {
	id, name, kind string
	owner          *user
	bridgeAgent    string
	grants         *bridgeagent.Grants // what bridgeAgent is granted (grantsOf)
	ip             string
	threads        int
	models         []string
	nsfw           bool
	blacklist      []string
	maxPixels      int
	maxLength      int
	maxContext     int
	forms          []string
	maxTiles       int

	allowImg2Img, allowPainting, allowPostProcessing, allowControlnet, allowSDXLControlnet bool
	allowLora, allowUnsafeIP, limitMaxSteps, extraSlow                                     bool
	requireUpfront                                                                         bool

	created, lastCheckIn, lastSettings time.Time
	builtin                            bool
	maintenance                        bool
	maintenanceMsg                     string
	paused                             bool
	info                               string
	kudosEarned                        float64
	fulfilled                          int
	aborted                            int
	abortTimes                         []time.Time
	things                             float64
	uncompleted                        int
	team                               *team
}

func (w *worker) online(now time.Time) bool {
	return w.builtin || now.Sub(w.lastCheckIn) <= 300*time.Second
}

func (w *worker) serves(model string) bool {
	for _, m := range w.models {
		if m == model {
			return true
		}
	}
	return false
}

type request struct {
	id, kind string
	user     *user
	ip       string
	created  time.Time
	expiry   time.Time
	seq      int64
	priority float64

	n, total    int
	faulted     bool
	expired     bool
	cancelled   bool
	charged     float64
	hold        float64 // upfront kudos reserved at admission (availableKudosLocked)
	perJob      float64 // K
	jobs        []*job
	faultedJobs int
	sharedKey   *sharedKey // the key the request was made with, which pays along with its owner

	models          []string
	trustedWorkers  bool
	slowWorkers     bool
	extraSlow       bool
	workersList     []string
	workerBlacklist bool
	disableBatching bool
	prompt          string

	// image
	imgIn          gen.GenerationInputStable
	root           gen.ModelPayloadRootStable
	width, height  int
	steps          int
	nsfw, censor   bool
	r2             bool
	seed           *uint64
	seedVariation  int
	sourceImage    string
	sourceMask     string
	sourceProc     string
	hasLoras       bool
	controlType    string
	postProcessors int

	// text
	txtIn      gen.GenerationInputKobold
	maxLength  int
	maxContext int
}

type job struct {
	id     string
	req    *request
	worker *worker
	model  string
	popped time.Time
	ttl    int
	state  int

	// results
	censored    bool
	seed        int
	img         []byte
	imgIsR2     bool
	text        string
	textState   string
	genMeta     []gen.GenerationMetadataStable
	genMetaText []gen.GenerationMetadataKobold
	reward      float64
	submits     int // accepted submits
	attempts    int // every submit attempt for this id
	finishedAt  time.Time
}

const (
	formWaiting    = "waiting"
	formProcessing = "processing"
	formDone       = "done"
	formFaulted    = "faulted"
	formCancelled  = "cancelled"
)

type interrogation struct {
	id          string
	user        *user
	created     time.Time
	expiry      time.Time
	seq         int64
	priority    float64
	sourceImage string
	slowWorkers bool
	forms       []*form
}

type form struct {
	id      string
	in      *interrogation
	name    string
	payload map[string]string
	state   string
	popped  time.Time
	worker  *worker
	aborts  int
	kudos   float64
	result  map[string]any
	submits int
	seq     int64
}

type transferRecord struct {
	target int
	amount int
}
