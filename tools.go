//go:build tools

// This file pins the code generators and linters that `go generate` and the Makefile run, so that
// their versions are recorded in go.mod and every machine runs the same ones.
package horde

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
