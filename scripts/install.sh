#!/usr/bin/env bash
# Installs everything the zoo needs: Debian packages (data, fonts, the browser for the e2e
# tests) and the pinned Python requirements. README, .ci/run and the Dockerfile all use it,
# so this is the one list of what gets installed.
#   bash scripts/install.sh               everything
#   bash scripts/install.sh --no-browser  without Chromium (serving only, e.g. the Docker image)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  dataset-fashion-mnist  # Fashion-MNIST in /usr/share/datasets/fashion-mnist: works offline
  bible-kjv              # an English text corpus for the text models
  fonts-dejavu-core      # Latin and Cyrillic (the Russian pages) for a browser on this machine (the e2e tests)
  fonts-wqy-microhei     # Chinese characters for the same (1.6 MB); the zoo's own images hold no text
)
case "${1:-}" in
  "") APT_PACKAGES+=(chromium) ;;  # drives the browser tests (tests/e2e)
  --no-browser) ;;
  *) echo "usage: bash scripts/install.sh [--no-browser]" >&2; exit 2 ;;
esac

if command -v apt-get >/dev/null; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
else
  echo "No apt-get here: skipping the Debian packages (${APT_PACKAGES[*]})." >&2
  echo "Fashion-MNIST: set ZOO_DOWNLOAD=1 or ZOO_DATA_DIR; without chromium the browser tests skip." >&2
fi

python3 -m pip install -r requirements.txt
