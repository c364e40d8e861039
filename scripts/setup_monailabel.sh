#!/usr/bin/env bash
# Builds MONAI Label's own virtual environment when missing and prints its path: `bash scripts/setup_monailabel.sh`.
#
# MONAI Label needs torchvision, whose PyPI wheels need PyPI's regular (CUDA) torch: so it gets its own environment
# (about 7.6 GB), kept outside the clone in ${CUSTOM_NETWORKS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/custom_networks}/
# monailabel-<key>, the key a hash of the pins (requirements-monailabel.txt, requirements.txt, this script, the Python
# version). With the key unchanged a run only prints the path; a new key builds anew and removes the other builds.
# custom_networks itself is not installed there: the served bundles are exports with their code vendored
# (scripts/monailabel_app.sh runs the export with the clone on PYTHONPATH, and the server without it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
# monai 1.6 breaks MONAI Label 0.8.5's NIfTI inference (its Spacingd updates every "image_*" item of the data, and
# MONAI Label's "image_path" is a string). monai 1.5.2 declares pytorch-ignite==0.4.11 for its "ignite" extra but runs
# with the 0.5 series that requirements.txt pins, so it replaces the resolved monai without its dependencies.
MONAI_SPEC="monai==1.5.2"

log() { echo "[setup_monailabel] $*" >&2; }

key="$( { cat "$ROOT/requirements-monailabel.txt" "$ROOT/requirements.txt" "${BASH_SOURCE[0]}"; "$PYTHON" -VV; } \
  | sha256sum | cut -c1-12)"
cache="${CUSTOM_NETWORKS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/custom_networks}"
venv="$cache/monailabel-$key"
mkdir -p "$cache"
exec 9>"$cache/monailabel.lock"
flock 9  # one build at a time; a second caller waits and then finds it built

if [ ! -f "$venv/.complete" ]; then
  find "$cache" -mindepth 1 -maxdepth 1 -name 'monailabel-*' -exec rm -rf {} +
  log "building $venv (about 7.6 GB, most of it the CUDA libraries of PyTorch)"
  start=$SECONDS
  "$PYTHON" -m venv "$venv"
  pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)
  "${pip[@]}" install --upgrade pip
  "${pip[@]}" install -r "$ROOT/requirements-monailabel.txt" -r "$ROOT/requirements.txt"
  "${pip[@]}" install --no-deps "$MONAI_SPEC"
  PYTHONPATH="$ROOT" "$venv/bin/python" -c "import custom_networks, monailabel.main, torchvision.ops"
  touch "$venv/.complete"
  log "built in $((SECONDS - start)) s, $(du -sh "$venv" | cut -f1)"
fi
echo "$venv"
