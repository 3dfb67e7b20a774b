#!/usr/bin/env bash
# Set up storyreel in ./.venv (idempotent). `scripts/setup.sh` for rendering on the offline
# defaults; `scripts/setup.sh --dev` adds the test tools and every optional backend's packages,
# and builds .venv-ray as `--ray` does: storyreel with hydra/launcher=ray, in an environment of
# its own (hydra-ray-launcher holds cloudpickle below 3, which .venv's joblib 1.6 cannot take).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --disable-pip-version-check -q)
# Editable installs put the checkout itself on sys.path (setuptools' "compat" mode): Hydra finds
# launcher plugins by listing the folders of the `hydra_plugins` namespace package, and the
# default editable mode reaches hydra_plugins/storyreel_launchers through an import hook that no
# folder listing sees (hydra/launcher=submitit_local would quietly be the plugin's own).
EDITABLE=(--config-settings editable_mode=compat -e)
ray_venv() {
  if [ ! -x .venv-ray/bin/python ]; then
    "$PYTHON" -m venv .venv-ray
  fi
  .venv-ray/bin/python -m pip install --disable-pip-version-check -q "${EDITABLE[@]}" ".[ray]"
}
if [ "${1:-}" = "--ray" ]; then
  ray_venv
  exit 0
fi
if [ "${1:-}" = "--dev" ]; then
  # torch is pinned: an unpinned requirement can pull a multi-GB CUDA build.
  "${PIP[@]}" "torch==2.13.0"
  "${PIP[@]}" "${EDITABLE[@]}" ".[test,all]"
  # The tests' real CLIP tokenizer is built from the BPE vocabulary inside open-clip-torch.
  # Without its dependencies: a plain requirement pulls torchvision, which would replace torch.
  "${PIP[@]}" --no-deps "open-clip-torch==3.3.0"
  # The review page's test drives Debian's Chromium through playwright (never `playwright
  # install`); without root or apt the test skips and says why.
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium
  fi
  ray_venv  # tests/test_launchers.py renders a batch on a local Ray cluster with it
else
  "${PIP[@]}" "${EDITABLE[@]}" .
fi
# Caption fonts for every script: Noto CJK and a colour emoji font (DejaVu stays the default for
# Latin). Debian's packages, installed when this runs as root and they are missing.
FONT_PACKAGES=(fonts-noto-cjk fonts-noto-color-emoji)
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  missing=()
  for package in "${FONT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
      || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
      echo "warning: ${missing[*]} not installed (needs root): Chinese, Japanese, Korean and" \
           "emoji captions would show boxes; run: sudo apt-get install ${missing[*]}" >&2
    fi
  fi
fi
