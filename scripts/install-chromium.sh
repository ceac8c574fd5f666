#!/usr/bin/env bash
# install-chromium.sh: Debian's chromium for the HTML report's headless
# browser test (report/browser_test.go). Idempotent: does nothing when
# chromium is on the PATH. Needs root (or sudo) and the Debian archive; when
# neither is there it says so and exits 0, and the test then skips loudly.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: $(chromium --version 2>/dev/null || echo present)"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "install-chromium: not root and no sudo: chromium NOT installed (the browser test will skip)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold the dpkg lock: wait for it rather than fail.
if ! { $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq &&
       $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }; then
  echo "install-chromium: apt-get failed: chromium NOT installed (the browser test will skip)" >&2
  exit 0
fi
echo "chromium: $(chromium --version)"
