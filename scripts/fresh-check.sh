#!/usr/bin/env bash
# make fresh-check [RELEASE=bookworm]: the README's promise, tried on a new machine.
#
# Builds a minimal Debian root (mmdebstrap --variant=minbase with only make,
# git and ca-certificates), gives it this machine's Debian apt sources in the
# one-line format an installed Debian has, this machine's CA and pip settings
# (so it reaches the same package registries), clones the repository's HEAD
# into it and runs `make test` there as root, with no stdin and an empty lab
# cache. Prints the wall time and pytest's summary; the whole log is kept in
# build/fresh-check/RELEASE.log.
#
# The root's mounts (proc, sys, dev) live in a mount namespace of their own
# (unshare), so they vanish with it whatever happens; the root itself is
# removed at the end unless KEEP=1. Nothing is written to this machine's /etc.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
release="${1:-bookworm}"
out="$repo/build/fresh-check"
log="$out/$release.log"
mkdir -p "$out"

[ "$(id -u)" = 0 ] || { echo "fresh-check: run as root (mmdebstrap, chroot, mounts)" >&2; exit 1; }
git -C "$repo" diff --quiet HEAD -- || \
  echo "fresh-check: note: uncommitted changes are not part of the check (it clones HEAD)"
for tool in mmdebstrap unshare; do
  command -v "$tool" >/dev/null || {
    echo "fresh-check: installing $tool"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "$( [ "$tool" = unshare ] && echo util-linux || echo "$tool")" >/dev/null
  }
done

sources="$(.venv/bin/python -m xenlab.parts sources "$release")"
root="$(mktemp -d /var/tmp/xenolith-fresh-"$release".XXXXXX)"
cleanup() {
  if findmnt -rn -o TARGET | grep -q "^$root"; then
    echo "fresh-check: something is still mounted under $root; not removing it" >&2
  elif [ "${KEEP:-0}" = 1 ]; then
    echo "fresh-check: root kept in $root"
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT

start=$(date +%s)
echo "fresh-check: $release minimal root in $root (mmdebstrap; log $log)"
first_uri="$(awk '{for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit }}' <<<"$sources")"
mmdebstrap --variant=minbase --include=make,git,ca-certificates "$release" "$root" \
  "deb $first_uri $release main" >"$log" 2>&1 \
  || { tail -20 "$log" >&2; echo "fresh-check: mmdebstrap failed" >&2; exit 1; }
printf '%s\n' "$sources" > "$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*

# What makes pip and https reach the registries here: CA files, pip's settings.
passed=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        LANG=C.UTF-8 TERM=dumb CI=true)
for var in SSL_CERT_FILE SSL_CERT_DIR PIP_CERT REQUESTS_CA_BUNDLE CURL_CA_BUNDLE \
           PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PIP_DEFAULT_TIMEOUT \
           http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!var:-}" ] || continue
  passed+=("$var=${!var}")
  if [ -f "${!var}" ]; then mkdir -p "$root$(dirname "${!var}")"; cp "${!var}" "$root${!var}"; fi
done
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
[ -d /etc/xdg/pip ] && mkdir -p "$root/etc/xdg" && cp -r /etc/xdg/pip "$root/etc/xdg/"

echo "fresh-check: cloning $(git -C "$repo" rev-parse --short HEAD) into the root"
git clone -q "$repo" "$root/root/xenolith"

echo "fresh-check: make test in the root, cold (progress below; whole log in $log)"
set +e
unshare --mount --propagation private bash -c '
  set -e
  root="$1"; shift
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/run"
  exec chroot "$root" env -i "$@" bash -c "cd /root/xenolith && make test" </dev/null
' fresh-check "$root" "${passed[@]}" 2>&1 | tee -a "$log" | \
  grep --line-buffered -E '^(bootstrap|xenlab|make|tests/|=+|[0-9]+ (passed|failed))|passed|failed|error' 
status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))
summary="$(grep -E '^=+ .*(passed|failed|error).* =+$' "$log" | tail -1)"
printf 'fresh-check: %s: make test exited %s after %dm%02ds; pytest: %s\n' \
  "$release" "$status" $((elapsed / 60)) $((elapsed % 60)) "${summary:-no summary}"
exit "$status"
