#!/usr/bin/env bash
# Installs what `make test` and `make demo` need from Debian when it is missing (root only).
# Mosquitto is started by the tests themselves, on a free loopback port.
set -euo pipefail

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
# Debian's Chromium for the web UI's browser tests (Playwright drives it; no browser download).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# A CJK font so the Chinese pages' screenshots show characters, not boxes.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need_apt+=(fonts-wqy-microhei)

if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing ${need_apt[*]} with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
        # The Debian package may start a broker on 1883; the tests use their own ports.
    else
        echo "missing: ${need_apt[*]}; install them (apt-get install ${need_apt[*]}) and retry" >&2
        exit 1
    fi
fi

# PostgreSQL for the hub's tests: start the local cluster on loopback when it is installed but
# stopped (tests that need it skip with a reason when it is absent).
if command -v pg_ctlcluster >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1; then
    if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
        version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
        if [ -n "$version" ] && [ "$(id -u)" -eq 0 ]; then
            echo "starting PostgreSQL $version on loopback"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || echo "PostgreSQL did not start; its tests will skip" >&2
        fi
    fi
fi
