// Package worker is a framework for AI Horde workers: a Go program plugs in a backend (image,
// text or alchemy) and gets a worker that pops jobs from the Horde, runs them, and submits the
// results without ever dropping a finished one.
//
// This file set holds the generation state machine: the states and transition tables of the
// AI Horde's worker SDK (embedded from transitions/*.yaml), with its known quirks decided
// explicitly (see lifecycle.Generation).
package worker
