// Package bridgedata reads the bridgeData.yaml files of the AI Horde's workers (reGen, the
// scribe and the alchemist, through horde_sdk's bridge data) and turns them into a worker.
//
//	cfg, warnings, err := bridgedata.Load("bridgeData.yaml") // each bad field named, with its rule
//	bridgedata.LogWarnings(logger, warnings)                  // unknown keys, adjusted values
//	_ = cfg.ApplyEnv(os.LookupEnv)                             // AI_HORDE_API_KEY, AI_HORDE_URL
//	w, err := bridgedata.NewWorker(ctx, cfg, worker.Backends{Text: myBackend},
//		bridgedata.Options{Logger: logger})
//	err = w.Run(ctx)
//
// Every upstream key is understood; keys of upstream workers that horde-go does not use give a
// warning that says why, unknown keys a warning. Config.Settings turns a configuration into
// worker.Settings for programs that build the worker themselves; the meta instructions of
// models_to_load ("top 5", "all sdxl", …) are resolved against the Horde's statistics and the
// model reference (ResolveImageModels).
package bridgedata
