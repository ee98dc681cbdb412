#!/usr/bin/env bash
# One entry point for a fresh machine:
#   ./run.sh          set up .venv with the app's packages only (first time, or when requirements change) and start
#                     the app (options go to `streamlit run`, e.g. ./run.sh --server.port 8600)
#   ./run.sh test     set up .venv with the app's and the test tools' packages and run the test suite (extra
#                     arguments go to pytest)
#   ./run.sh setup    only set up .venv, test tools included (what CI does before linting)
set -euo pipefail
cd "$(dirname "$0")"

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# setup app|test: install requirements.txt (app) or requirements-dev.txt (app + test tools) unless done already
setup() {
    local kind=$1 app_hash test_hash wanted requirements
    app_hash=$(hash_of requirements.txt pyproject.toml)
    test_hash=$(hash_of requirements.txt requirements-dev.txt pyproject.toml)
    if [[ $kind == app ]]; then wanted=$app_hash requirements=requirements.txt; else wanted=$test_hash requirements=requirements-dev.txt; fi
    if [[ -f .venv/.setup-$kind && $(cat ".venv/.setup-$kind") == "$wanted" ]]; then
        return
    fi
    echo "Setting up .venv for the $kind (first run or requirements changed)..."
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r "$requirements"
    .venv/bin/python -m pip install --quiet --no-deps -e .   # the `fer` command
    echo "$app_hash" > .venv/.setup-app   # the test stack holds the app's
    [[ $kind == test ]] && echo "$test_hash" > .venv/.setup-test
    return 0
}

command=app
if [[ $# -gt 0 && $1 != -* ]]; then
    command=$1
    shift
fi
case $command in
    app) setup app ;;
    test | setup) setup test ;;
esac
case $command in
    app)
        # Streamlit's own banner is off (it looks up the public IP outside): say where the app is.
        echo "Starting the app: open http://localhost:8501 (or the --server.port you gave). Ctrl+C stops it."
        # this machine only unless told otherwise (README, "Sign-in"): e.g. ./run.sh --server.address 0.0.0.0
        address=(--server.address 127.0.0.1)
        for arg in "$@"; do [[ $arg == --server.address* ]] && address=(); done
        exec .venv/bin/streamlit run serve.py ${address[@]+"${address[@]}"} "$@" ;;
    test) exec .venv/bin/python -m pytest "$@" ;;
    setup) ;;
    *) echo "usage: ./run.sh [app|test|setup] [args...]" >&2; exit 2 ;;
esac
