#!/usr/bin/env bash
# Install the Debian packages the book's tests and offline editions need, when they are missing:
#   chromium        the browser tests (Playwright drives Debian's Chromium; it cannot download one)
#   fonts-noto-cjk  Chinese glyphs in the browser and in the PDF
#   iptables, iproute2  the interception lab (network namespaces, veth, netfilter rules)
#   the shellcheck package: the lab scripts' lint
#   zsh             the lab's env.sh is tested when sourced from zsh too
# and, for `make pdf` / `make epub` (and the tests that build them):
#   texlive-xetex texlive-latex-extra texlive-fonts-recommended texlive-lang-chinese latexmk
#   fonts-freefont-otf   XeLaTeX, xeCJK and the fonts Sphinx's LaTeX uses
#   librsvg2-bin         rsvg-convert: the diagrams' SVGs as PDF figures
#   poppler-utils        pdffonts / pdftotext, to check the PDF (embedded fonts, figures)
#   epubcheck default-jre-headless   the EPUB validator and the Java it runs on
# Usage: ensure-system-deps.sh [offline]   (with "offline": only what make pdf / make epub need)
# Runs apt-get only when something is missing and we are root; otherwise says what to install.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
want() { for p in "$@"; do have_pkg "$p" || need+=("$p"); done; }

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "ensure-system-deps: not a Debian system; install the packages named in README.md yourself" >&2
  exit 0
fi
if [ "${1:-}" != offline ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v iptables >/dev/null 2>&1 || need+=(iptables)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
  command -v zsh >/dev/null 2>&1 || need+=(zsh)
fi
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || need+=(fonts-noto-cjk)
want texlive-xetex texlive-latex-extra texlive-fonts-recommended texlive-lang-chinese latexmk fonts-freefont-otf \
  librsvg2-bin poppler-utils epubcheck default-jre-headless

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-system-deps: missing Debian packages: ${need[*]}" >&2
  echo "ensure-system-deps: install them with: sudo apt-get install --no-install-recommends ${need[*]}" >&2
  echo "ensure-system-deps: (tests that need them will be skipped or fail with the same message)" >&2
  exit 0
fi
echo "ensure-system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
