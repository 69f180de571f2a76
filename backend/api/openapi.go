package api

import _ "embed"

// OpenAPI is the machine-readable contract (OpenAPI 3.0, YAML). The server's
// tests check that every route exists in it and that real answers validate
// against it.
//
//go:embed openapi.yaml
var OpenAPI []byte
