#!/usr/bin/env bash
# Build the course from the stored notebook outputs (nothing is executed), failing on any warning.
#
#   bash scripts/build.sh           the instructor website, _build/html/ (solutions in dropdowns),
#                                   with the course bundle in _build/html/downloads/
#   bash scripts/build.sh student   the student website, _build/student/_build/html/: every
#                                   solution removed, the student notebooks as page sources, the
#                                   student bundle in its downloads/
#   bash scripts/build.sh pdf       the book as PDF (XeLaTeX), _build/pdf/: logistic-regression-bce.pdf
#                                   (solutions in an appendix) and logistic-regression-bce-student.pdf
#                                   (no solutions); copied into the websites' downloads/ when built
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
  for font in FreeSerif FreeSans "DejaVu Sans Mono"; do
    grep -qF "$font" <<< "$fonts" || missing="$missing font:$font"
  done
  if [ -n "$missing" ]; then
    echo "The PDF needs XeLaTeX, latexmk and the FreeFont and DejaVu fonts; missing:$missing." >&2
    echo "On Debian/Ubuntu install them with (about 400 MB, a minute):" >&2
    echo "  sudo apt-get install -y --no-install-recommends texlive-latex-recommended texlive-latex-extra \\" >&2
    echo "       texlive-fonts-recommended texlive-xetex latexmk xindy make fonts-freefont-otf fonts-dejavu-core poppler-utils" >&2
    return 0
  fi
  return 1
}

build_pdf() {  # $1: edition (instructor or student), $2: the PDF's file name
  local src="$BUILD/pdf-$1"
  COURSE_EDITION="$1" jupyter-book build . --builder pdflatex --path-output "$src" -W -n --keep-going
  local tex="$src/_build/latex"
  if grep -q "Missing character" "$tex/$PDF_NAME.log"; then
    grep "Missing character" "$tex/$PDF_NAME.log" | sort | uniq -c >&2
    echo "The $1 PDF has missing glyphs (above): map them in book/_ext/course_editions.py." >&2
    exit 1
  fi
  mkdir -p "$PDF_DIR"
  cp "$tex/$PDF_NAME.pdf" "$PDF_DIR/$2"
  cp "$tex/$PDF_NAME.log" "$PDF_DIR/${2%.pdf}.log"
  for site in "$BUILD/html" "$BUILD/student/_build/html"; do
    if [ -d "$site/downloads" ]; then cp "$PDF_DIR/$2" "$site/downloads/"; fi
  done
}

case "$what" in
  site|instructor)
    jupyter-book build . --path-output "$OUT" -W -n --keep-going
    echo
    echo "The website (instructor edition) is at:"
    echo "$BUILD/html/index.html"
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
    echo
    echo "The student PDF (no solutions) is at: $PDF_DIR/$PDF_NAME-student.pdf"
    echo "The PDF (solutions in an appendix) is at:"
    echo "$PDF_DIR/$PDF_NAME.pdf"
    ;;
  *)
    echo "usage: bash scripts/build.sh [student|pdf]   (no argument: the instructor website)" >&2
    exit 2
    ;;
esac
