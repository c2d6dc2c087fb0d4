#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what it needs, starts containerd,
# runs every test, and ends with the line "N passed, N failed" taken from bun's JUnit report.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
prepare_machine
install_apt_packages "${KUBUN_TEST_APT_PACKAGES[@]}"
if grep -q '"gen:openapi"' package.json; then bun run gen:openapi >/dev/null; fi

mkdir -p .tmp
# Tests write only inside the repository: temp dirs (and those of the servers and containerd they start) go to .tmp/.
export TMPDIR="$PWD/.tmp"
report=.tmp/junit.xml
rm -f "$report"
set +e
# Tests start servers, containerd and network namespaces: a minute per test before it counts as hung.
bun test --timeout 60000 --reporter=junit --reporter-outfile="$report" "$@"
status=$?
set -e
bun run scripts/junit-summary.ts "$report"
summary=$?
# Non-zero when any test failed, when bun failed outside a test, or when no report was written.
if [ $status -ne 0 ] || [ $summary -ne 0 ]; then exit 1; fi
