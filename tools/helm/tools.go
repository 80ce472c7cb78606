//go:build tools

// Package tools pins the helm CLI, which Argo CD's repo-server runs (`helm template`) for Helm sources.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
