#!/usr/bin/env bash
# Installs the Debian packages the integration tests start for real: etcd, runc with
# busybox-static for images, the CNI plugins, a Distribution registry, iproute2, iptables,
# conntrack (the service proxy flushes stale UDP flows), openssl (the registry tests' TLS
# certificates and token signatures).
# Only when root and only what is missing, so a developer
# machine without root still runs the unit tests.
set -euo pipefail
want=(etcd-server:etcd runc:runc busybox-static:busybox containernetworking-plugins:/usr/lib/cni/bridge
      docker-registry:docker-registry iproute2:ip iptables:iptables-restore conntrack:conntrack
      openssl:openssl)
missing=()
for pair in "${want[@]}"; do
  pkg=${pair%%:*}; bin=${pair##*:}
  if [[ "$bin" == /* ]]; then [ -e "$bin" ] || missing+=("$pkg"); else command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: cannot install ${missing[*]}; tests needing them will say so" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"
