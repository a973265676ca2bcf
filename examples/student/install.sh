#!/usr/bin/env bash
# Creates the student trainer's venv, .cache/py/student, once per version of
# requirements.txt: Debian's python3-torch (CPU) through --system-site-packages, and the
# pinned packages of requirements.txt from PyPI. Prints the venv's python on stdout.
#   TEACHERLM_STUDENT_PYTHON  interpreter to build the venv on (default /usr/bin/python3,
#                             the one Debian's python3-torch belongs to)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.cache/py/student"
base="${TEACHERLM_STUDENT_PYTHON:-/usr/bin/python3}"
log() { echo "student install: $*" >&2; }
start=$(date +%s)

if ! "$base" -c 'import torch' 2>/dev/null; then
  if [ "$base" = /usr/bin/python3 ] && command -v apt-get >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
    log "installing Debian's python3-torch and OpenBLAS (CPU; about 150 MB to download)"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-venv libopenblas0-pthread >&2
  else
    log "$base has no torch: install torch for it (e.g. a CUDA wheel from PyPI on a GPU machine) and run again"
    exit 1
  fi
fi

wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
stamp="$venv/.teacherlm-requirements.sha256"
if [ ! -x "$venv/bin/python" ]; then
  log "creating venv .cache/py/student over $base (--system-site-packages: torch and numpy)"
  "$base" -m venv --system-site-packages "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  log "installing the pinned packages of examples/student/requirements.txt"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  echo "$wanted" > "$stamp"
  log "done in $(( $(date +%s) - start )) s; venv $(du -sh "$venv" | cut -f1)"
fi
echo "$venv/bin/python"
