//go:build tools

// Package tools pins Argo CD: one multi-call binary that runs as argocd-application-controller and
// argocd-repo-server (by the name it is called with), so the GitOps loop runs on the local control plane.
package tools

import _ "github.com/argoproj/argo-cd/v3/cmd"
