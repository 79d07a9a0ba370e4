#!/usr/bin/env bash
# Debian packages the app and its tests use: a CJK font and HarfBuzz subsetting for Chinese PDFs (WeasyPrint),
# pdftotext to check PDF text, the plain-text accounting tools the export is checked against, wrk for the
# load benchmark of the public pages (bench/public_pages.py), and Debian's chromium, which the browser tests
# (tests/browser, Playwright) drive.
# Installs what is missing when run as root on Debian/Ubuntu; elsewhere says what to install and carries on.
set -u
PACKAGES=(fonts-wqy-microhei libharfbuzz-subset0 poppler-utils hledger ledger wrk chromium)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
  echo "apt-get could not install ${missing[*]}" >&2
  exit "${STRICT:-0}"
fi
if command -v dpkg >/dev/null 2>&1; then
  echo "note: please install: sudo apt-get install ${missing[*]} (PDF and export tests and the benchmarks need them)" >&2
else
  echo "note: install a CJK font (WenQuanYi Micro Hei), poppler's pdftotext, hledger and ledger for the PDF and export tests, wrk for bench/public_pages.py, chromium for the browser tests" >&2
fi
exit "${STRICT:-0}"
