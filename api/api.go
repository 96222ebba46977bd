// Package api holds the AI Horde API documents: swagger.json, the upstream Swagger 2.0 document
// vendored byte for byte, and openapi.yaml, the OpenAPI 3 document converted from it by
// internal/specconv, from which gen/ is generated.
//
// Run `go generate ./...` from the module root after replacing swagger.json with a new upstream
// document: the converter rewrites openapi.yaml, then oapi-codegen rewrites gen/.
package api

import _ "embed"

//go:generate go run ../internal/cmd/specconv -q -in swagger.json -out openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../gen/oapi-codegen.yaml openapi.yaml

// OpenAPI is the converted OpenAPI 3 document (YAML), for request and response validation.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Swagger is the upstream Swagger 2.0 document (JSON) exactly as the server serves it.
//
//go:embed swagger.json
var Swagger []byte
