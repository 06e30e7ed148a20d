#!/usr/bin/env bash
# Installs what Xenolith needs on a fresh Debian 12 or 13 machine, and nothing twice.
# It assumes only what `make` and `git` need (bash and apt come with every
# Debian root):
#   1. Debian packages (apt) that are missing from APT_PACKAGES;
#   2. the Python virtual environment .venv/ with this clone installed in it (editable:
#      the `xenlab` command, the pytest plugin), its dependencies declared in
#      pyproject.toml and pinned by constraints.txt (re-created when either changes).
# Quiet when everything is already there. Run by every make target.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv ca-certificates    # the tooling's .venv/ and pip over https
  procps                                  # pgrep/ps: the lab's tests look for stray QEMUs
  make gcc gcc-multilib libc6-dev binutils # the kernel (gcc -m32), Xen, dom0's test peers
  flex bison bc dpkg-dev                  # Xen's hypervisor build, apt-get source
  libxen-dev                              # Xen's public headers for codegen/
  qemu-system-x86 qemu-utils              # the lab: Xen runs inside QEMU (TCG)
  cpio gzip xz-utils zstd                 # dom0 initramfs
  busybox-static util-linux coreutils bash iproute2 # copied into dom0
  clang libclang-rt-dev g++-multilib llvm # make fuzz, make check's smoke: libFuzzer,
                                          # ASan, UBSan for i386 (-m32), llvm-cov
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >/tmp/xenolith-apt.log 2>&1 || { echo "bootstrap: apt-get install failed; see /tmp/xenolith-apt.log" >&2; exit 1; }
fi

PYTHON="${PYTHON:-python3}"
stamp=".venv/.requirements.sha256"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: creating .venv/ (pyproject.toml, pinned by constraints.txt)"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "bootstrap: Python 3.11 or newer is needed (set PYTHON=...)" >&2; exit 1; }
  rm -rf .venv
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev,bench]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c 'import pexpect, qemu.qmp, elftools, jinja2, pytest, matplotlib, xenlab' \
    || { echo "bootstrap: pip install -e .[dev,bench] failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
