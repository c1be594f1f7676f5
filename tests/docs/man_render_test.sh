#!/usr/bin/env bash
# Renders every man page with mandoc -T utf8 and fails on what a reader would see as a rendering
# bug that mandoc's linter lets through: a word swallowed by a flag macro ("(--grace, -default
# 1h)"), a macro name printed as text, a roff escape printed literally, a font escape left open.
# Usage: man_render_test.sh MAN_DIR
set -euo pipefail
dir=$1
command -v mandoc >/dev/null || { echo "skip: mandoc not installed (scripts/install-deps.sh)"; exit 77; }
failed=0
bad() { echo "FAIL: $1: $2" >&2; failed=1; }

pages=("$dir"/*.[1-8])
[[ -e ${pages[0]} ]] || { echo "FAIL: no man pages in $dir" >&2; exit 1; }
for page in "${pages[@]}"; do
  name=$(basename "$page")
  # Wide lines so nothing is hyphenated or wrapped between a dash and its word; col -b drops
  # the overstrike bold/underline.
  text=$(mandoc -T utf8 -O width=300 "$page" | col -bx)
  [[ -n $text ]] || bad "$name" "renders to nothing"
  # Flags of regd and regctl are --long or a single letter (-q, -v, -n, -j, -h): a single dash
  # before a word is a word that Fl swallowed (".Fl \-grace , default" renders "-default").
  # Literal displays (shell examples: "[ $? -eq 3 ]") are verbatim by definition: left out.
  prose=$(sed '/^\.Bd -literal/,/^\.Ed/d' "$page" | mandoc -T utf8 -O width=300 | col -bx)
  while IFS= read -r hit; do
    bad "$name" "word rendered as a flag: '$hit'"
  done < <(grep -noE '(^|[[:space:](\[,;|])-[[:alpha:]][[:alpha:]]+' <<<"$prose" || true)
  # mdoc macro names in running text: a macro line that lost its leading dot, or a call that
  # mandoc did not parse.
  while IFS= read -r hit; do
    bad "$name" "macro name rendered as text: '$hit'"
  done < <(grep -noE '(^|[[:space:]])(Fl|Ar|Cm|Li|Pq|Op|Ns|Xr|Ev|Pa|Sx|Nm|Dq|Ql)([[:space:]]|$)' <<<"$text" || true)
  # Escapes that reached the output verbatim.
  while IFS= read -r hit; do
    bad "$name" "roff escape rendered literally: '$hit'"
  done < <(grep -noE '\\[-efs(&*]' <<<"$text" || true)
  # Font escapes: every \fB or \fI on a source line is closed by \fR or \fP on that line.
  lineno=0
  while IFS= read -r line; do
    lineno=$((lineno + 1))
    opened=$(grep -oE '\\f[BI]' <<<"$line" | wc -l || true)
    closed=$(grep -oE '\\f[RP]' <<<"$line" | wc -l || true)
    ((opened == closed)) || bad "$name:$lineno" "unbalanced font escapes: $line"
  done <"$page"
done
((failed == 0)) || exit 1
echo "ok: ${#pages[@]} man pages render without artefacts"
