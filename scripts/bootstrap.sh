#!/usr/bin/env bash
# Install everything pmgfast needs on a Debian machine, then start the gateway or run the tests.
#
#   scripts/bootstrap.sh start     install, build, and run the gateway on its embedded default
#   scripts/bootstrap.sh test      install, build, and run the whole test suite (what CI runs)
#   scripts/bootstrap.sh install   install and build only
#
# Safe to run again: every step checks what is already there. System packages need root
# (or sudo). Services from the packages (Postfix, clamd, unbound) are not started by the
# install: pmgfast and its tests start their own instances on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in
    start|test|install) ;;
    *) echo "usage: $0 start|test|install" >&2; exit 2 ;;
esac

APT_PACKAGES=(
    build-essential pkg-config git ca-certificates     # compilers, make
    python3 python3-venv python3-dev                   # the Python runtime and headers
    libmilter-dev libpq-dev                            # pymilter, psycopg
    postgresql                                         # the embedded database server
    postfix swaks                                      # end-to-end mail tests
    clamav-daemon clamav-testfiles                     # virus scanning
    unbound                                            # the DNS server of the network tests
    spamassassin                                       # benchmark and accuracy baseline
    linux-perf valgrind                                # benchmarks that count instructions
    shared-mime-info                                   # MIME types: pmgfast/mime/mimedb.txt is built from it
)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_system_packages() {
    local missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        [[ "$pkg" == \#* ]] && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if ! command -v cargo >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
        missing+=(cargo rustc)
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        echo "== system packages: all present"
        return
    fi
    echo "== installing system packages: ${missing[*]}"
    echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
    # Keep package scripts from starting system-wide services during the install.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        created_policy=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    if [ "$created_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
}

install_system_packages
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
command -v rustup >/dev/null && rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== building pmgfast (Python venv, Rust and Cython extensions)"
make -s build

case "$mode" in
    install) echo "== installed: .venv/bin/pmgfast" ;;
    start)   exec .venv/bin/pmgfast start ;;
    test)    exec make -s ci ;;
esac
