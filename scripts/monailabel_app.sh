#!/usr/bin/env bash
# Serves bundles to annotators with MONAI Label, offline:
#
#   bash scripts/monailabel_app.sh [--host HOST] [--port PORT] APP_DIR STUDIES_DIR BUNDLE [BUNDLE ...] [-- ARGS]
#
# Builds MONAI Label's environment when missing (scripts/setup_monailabel.sh), makes APP_DIR a copy of MONAI Label's
# monaibundle sample app (from the installed package) unless it is one already, exports each BUNDLE (a name under
# bundles/ or the path of a bundle folder, e.g. one with a trained models/model.pt) to APP_DIR/model/<name>/ in the
# Model Zoo's self-contained form (`custom-networks export`, with its models/model.pt) unless a copy is there already
# (kept as it is, with the models MONAI Label trained into it; each training starts over, keeping the earlier run's
# files in models/previous_<time>/), and runs the server in the foreground on STUDIES_DIR
# (images, with labels saved to STUDIES_DIR/labels/final/). MONAI Label lists a bundle for inference only when it has
# models/model.pt. HOST defaults to 127.0.0.1 (0.0.0.0 serves other machines), PORT to 8000;
# ARGS go to `monailabel start_server` as they are (e.g. --conf preload true).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { sed -n '2,4p' "${BASH_SOURCE[0]}" | cut -c3- >&2; exit 2; }

host=127.0.0.1
port=8000
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
[ $# -ge 3 ] || usage
app="$1"
studies="$2"
shift 2

sources=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  if [ -d "$1" ]; then
    sources+=("$(cd "$1" && pwd)")
  elif [ -d "$ROOT/bundles/$1" ]; then
    sources+=("$ROOT/bundles/$1")
  else
    echo "no bundle $1 (neither a folder nor a name under $ROOT/bundles)" >&2
    exit 2
  fi
  shift
done
[ ${#sources[@]} -gt 0 ] || usage
[ "${1:-}" != "--" ] || shift

venv="$(bash "$ROOT/scripts/setup_monailabel.sh")"
python="$venv/bin/python"

if [ ! -f "$app/main.py" ]; then
  tmp="$(mktemp -d)"
  "$python" -m monailabel.main apps --download --name monaibundle --output "$tmp" >/dev/null
  mkdir -p "$app"
  cp -r "$tmp/monaibundle/." "$app/"
  rm -rf "$tmp"
fi
mkdir -p "$app/model"

names=()
for src in "${sources[@]}"; do
  name="$(basename "$src")"
  if [ ! -e "$app/model/$name" ]; then
    # the bundle exported in the Model Zoo's self-contained form (custom_networks vendored into its scripts/), with
    # its trained model if it has one: MONAI Label then needs nothing of this repository
    weights=()
    [ ! -f "$src/models/model.pt" ] || weights=(--weights "$src/models/model.pt")
    PYTHONPATH="$ROOT" "$python" -m custom_networks.export "$src" "$app/model" "${weights[@]}" >/dev/null
  fi
  # MONAI Label retrains a bundle in its folder, over the model it serves: start_over, so that each training keeps the
  # earlier run's files in models/previous_<time>/ instead of refusing to overwrite them (bundles 0.3.0 and later)
  "$python" - "$app/model/$name/configs/train.json" <<'EOF'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    config = json.load(f)
if config.get("start_over") is False:
    config["start_over"] = True
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(config, f, indent=4)
EOF
  [ -f "$app/model/$name/models/model.pt" ] \
    || echo "warning: $app/model/$name has no models/model.pt: MONAI Label will not offer it for inference" >&2
  names+=("$name")
done

exec "$python" -m monailabel.main start_server --app "$app" --studies "$studies" --host "$host" --port "$port" \
  --conf models "$(IFS=,; echo "${names[*]}")" --conf zoo_source github --conf sam2 false "$@"
