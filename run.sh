#!/usr/bin/env bash
# One entry point for a fresh machine:
#   ./run.sh          set up .venv (first time, or when requirements change) and start the app
#                     (options go to `streamlit run`, e.g. ./run.sh --server.port 8600)
#   ./run.sh test     set up .venv and run the test suite (extra arguments go to pytest)
#   ./run.sh setup    only set up .venv
set -euo pipefail
cd "$(dirname "$0")"

setup() {
    local stamp=.venv/.setup-stamp
    local wanted
    wanted=$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
    if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
        return
    fi
    echo "Setting up .venv (first run or requirements changed)..."
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements-dev.txt
    .venv/bin/python -m pip install --quiet --no-deps -e .   # the `fer` command
    echo "$wanted" > "$stamp"
}

command=app
if [[ $# -gt 0 && $1 != -* ]]; then
    command=$1
    shift
fi
setup
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
