#!/usr/bin/env bash
# Build the course from the stored notebook outputs (nothing is executed), failing on any warning.
#
#   bash scripts/build.sh           the instructor website, _build/html/ (solutions in dropdowns),
#                                   with the course bundle in _build/html/downloads/ and the
#                                   Chinese edition in _build/html/zh/ (a language switch on
#                                   every page leads to the same page in the other language)
#   bash scripts/build.sh zh        only the Chinese edition, _build/zh/_build/html/, copied to
#                                   _build/html/zh/ when the English site is there
#   bash scripts/build.sh student   the student website, _build/student/_build/html/: every
#                                   solution removed, the student notebooks as page sources, the
#                                   student bundle in its downloads/
#   bash scripts/build.sh pdf       the book as PDF (XeLaTeX), _build/pdf/: logistic-regression-bce.pdf
#                                   (solutions in an appendix), logistic-regression-bce-student.pdf
#                                   (no solutions), and the same two in Chinese, -zh.pdf and
#                                   -student-zh.pdf; copied into the websites' downloads/ when built
#
# Each prints the path of what it built on its last line. A website built after the PDF links it
# from its download menu; build the PDF first (as .ci/run does) or again after.
# COURSE_OUT=/some/folder writes everything under /some/folder/_build/ instead of ./_build/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"
cd "$ROOT"
what="${1:-site}"
OUT="${COURSE_OUT:-$ROOT}"
BUILD="$OUT/_build"
PDF_DIR="$BUILD/pdf"
export COURSE_PDF_DIR="$PDF_DIR"   # where the websites' build looks for the PDFs to offer
PDF_NAME="logistic-regression-bce"

pdf_tools_missing() {
  local missing=""
  for tool in xelatex latexmk make fc-list; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
  done
  local fonts=""
  command -v fc-list >/dev/null 2>&1 && fonts="$(fc-list : family)"
  for font in FreeSerif FreeSans "DejaVu Sans Mono" "Noto Serif CJK SC" "Noto Sans CJK SC"; do
    grep -qF "$font" <<< "$fonts" || missing="$missing font:$font"
  done
  if [ -n "$missing" ]; then
    echo "The PDF needs XeLaTeX, latexmk, the FreeFont, DejaVu and Noto CJK fonts; missing:$missing." >&2
    echo "On Debian/Ubuntu install them with (about 650 MB, a minute or two):" >&2
    echo "  sudo apt-get install -y --no-install-recommends texlive-latex-recommended texlive-latex-extra \\" >&2
    echo "       texlive-fonts-recommended texlive-xetex texlive-lang-chinese latexmk xindy make \\" >&2
    echo "       fonts-freefont-otf fonts-dejavu-core fonts-noto-cjk poppler-utils" >&2
    return 0
  fi
  return 1
}

zh_config() {  # the Chinese edition's _config.yml (the English one with locales/zh_CN/config.yml)
  python -m course_lib translations config "$BUILD/zh-config/_config.yml" >/dev/null
  echo "$BUILD/zh-config/_config.yml"
}

build_pdf() {  # $1: edition (instructor or student), $2: the PDF's file name, $3: zh for Chinese
  local src="$BUILD/pdf-$1${3:+-$3}"
  local config=()
  if [ "${3:-}" = zh ]; then config=(--config "$(zh_config)"); fi
  COURSE_EDITION="$1" jupyter-book build . "${config[@]}" --builder pdflatex --path-output "$src" -W -n --keep-going
  local tex="$src/_build/latex"
  if grep -q "Missing character" "$tex/$PDF_NAME.log"; then
    grep "Missing character" "$tex/$PDF_NAME.log" | sort | uniq -c >&2
    echo "The $1 PDF has missing glyphs (above): map them in book/_ext/course_editions.py." >&2
    exit 1
  fi
  mkdir -p "$PDF_DIR"
  cp "$tex/$PDF_NAME.pdf" "$PDF_DIR/$2"
  cp "$tex/$PDF_NAME.log" "$PDF_DIR/${2%.pdf}.log"
  # Each website offers the PDF of its own edition and language only (never the instructor PDF
  # in the student site); the Chinese student PDF is handed out from _build/pdf/.
  local sites=()
  case "$1${3:+-$3}" in
    instructor) sites=("$BUILD/html") ;;
    student) sites=("$BUILD/student/_build/html") ;;
    instructor-zh) sites=("$BUILD/html/zh" "$BUILD/zh/_build/html") ;;
  esac
  for site in "${sites[@]}"; do
    if [ -d "$site/downloads" ]; then cp "$PDF_DIR/$2" "$site/downloads/"; fi
  done
}

build_zh_site() {  # the Chinese edition, placed under the English site's zh/ when it is built
  jupyter-book build . --config "$(zh_config)" --path-output "$BUILD/zh" -W -n --keep-going
  if [ -d "$BUILD/html" ]; then
    rm -rf "$BUILD/html/zh"
    cp -r "$BUILD/zh/_build/html" "$BUILD/html/zh"
  fi
}

case "$what" in
  site|instructor)
    jupyter-book build . --path-output "$OUT" -W -n --keep-going
    build_zh_site
    echo
    echo "The website (instructor edition; the Chinese edition in zh/) is at:"
    echo "$BUILD/html/index.html"
    ;;
  zh)
    build_zh_site
    echo
    echo "The Chinese edition is at:"
    echo "$BUILD/zh/_build/html/index.html"
    ;;
  student)
    COURSE_EDITION=student jupyter-book build . --path-output "$BUILD/student" -W -n --keep-going
    echo
    echo "The student website (no solutions) is at:"
    echo "$BUILD/student/_build/html/index.html"
    ;;
  pdf)
    if pdf_tools_missing; then exit 1; fi
    build_pdf instructor "$PDF_NAME.pdf"
    build_pdf student "$PDF_NAME-student.pdf"
    build_pdf instructor "$PDF_NAME-zh.pdf" zh
    build_pdf student "$PDF_NAME-student-zh.pdf" zh
    echo "The Chinese PDFs are at: $PDF_DIR/$PDF_NAME-zh.pdf (solutions in an appendix) and $PDF_DIR/$PDF_NAME-student-zh.pdf (none)"
    echo "The student PDF (no solutions) is at: $PDF_DIR/$PDF_NAME-student.pdf"
    echo "The PDF (solutions in an appendix) is at:"
    echo "$PDF_DIR/$PDF_NAME.pdf"
    ;;
  *)
    echo "usage: bash scripts/build.sh [student|zh|pdf]   (no argument: the instructor website, both languages)" >&2
    exit 2
    ;;
esac
