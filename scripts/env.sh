# Sourced by every script: where the toolchain lives and how Pulumi runs offline on local state.
# Override LKE_PLATFORM_CACHE to move the build cache (default: the user's cache directory).
# shellcheck shell=bash
LKE_PLATFORM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LKE_PLATFORM_ROOT
# shellcheck source=../tools/versions.env
source "$LKE_PLATFORM_ROOT/tools/versions.env"
# Every go command of the project runs the pinned Go release (tools/versions.env), whatever the machine's is.
export GOTOOLCHAIN=$GO_TOOLCHAIN
export LKE_PLATFORM_CACHE=${LKE_PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lke-platform}
# Git-ignored folders of this clone: tool links, local state, the local control plane.
export LKE_PLATFORM_TOOLS=$LKE_PLATFORM_ROOT/.tools
export LKE_PLATFORM_STATE=$LKE_PLATFORM_ROOT/.state
export PATH=$LKE_PLATFORM_TOOLS/bin:$PATH
# The kubernetes plugin's folder, for tests that hand it to ProgramTest as a local provider.
export LKE_PLATFORM_KUBERNETES_PLUGIN_DIR=$LKE_PLATFORM_CACHE/kubernetes-provider/$KUBERNETES_PROVIDER_VERSION

# Every Go build without file-system paths: the tests copy the program to temporary folders, and the language
# host builds each copy; with -trimpath the build cache serves a copy in seconds instead of recompiling the
# project's packages (about 90 s) for every new path.
case " ${GOFLAGS:-} " in *" -trimpath "*) ;; *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath" ;; esac

# The Go language host builds the program into a new temporary file for every preview and update, so the go
# command links the 100 MB program each time: 6-20 s on these machines, a third of an update. Through `go run`
# (this language host's PULUMI_GO_USE_RUN), the go command keeps the linked program in its build cache and links
# again only when the program changed (docs/performance.md, 2026-12-03). A failed program still fails the update
# with its own message.
export PULUMI_GO_USE_RUN=${PULUMI_GO_USE_RUN-true}

export PULUMI_HOME=${PULUMI_HOME:-$LKE_PLATFORM_CACHE/pulumi-home}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$LKE_PLATFORM_STATE/backend}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Local state is encrypted with a random passphrase kept beside it, never a constant in the repository.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE_FILE=$LKE_PLATFORM_STATE/passphrase
fi
