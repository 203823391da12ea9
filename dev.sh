#!/usr/bin/env bash
# One entry point for a fresh machine. Creates .venv on first use (CPU torch from the pinned
# wheel), then:
#   ./dev.sh up            run the whole pipeline on the embedded Kafka-compatible broker + Redis
#   ./dev.sh test [ARGS]   run the test suite (what .ci/run calls)
#   ./dev.sh ARGS...       any other `streamproc` command, e.g. ./dev.sh send ../shared/data/hl7
set -euo pipefail
cd "$(dirname "$0")"
stamp=.venv/.installed
if [ ! -x .venv/bin/streamproc ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setting up .venv (first run only)..." >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip >&2
  .venv/bin/pip install -q --disable-pip-version-check torch==2.13.0 >&2
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]' >&2
  touch "$stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cmd="${1:-up}"
case "$cmd" in
  test) shift; exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@" ;;
  *) exec .venv/bin/streamproc "$@" ;;
esac
