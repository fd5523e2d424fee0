#!/usr/bin/env bash
# Installs the Debian packages the integration tests start for real (etcd today; runc and
# friends when the kubelet lands). Only when root and only what is missing, so a developer
# machine without root still runs the unit tests.
set -euo pipefail
want=(etcd-server:etcd)
missing=()
for pair in "${want[@]}"; do
  pkg=${pair%%:*}; bin=${pair##*:}
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: cannot install ${missing[*]}; tests needing them will say so" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"
