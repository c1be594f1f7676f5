#!/usr/bin/env bash
# What the documentation points at exists:
# - every relative link in every *.md (and its #anchor, a heading of the target) resolves;
# - every repository path a *.md names in backticks (`docs/gc.md`, `packaging/regd.service.in`,
#   `core/src/gc*.cc`) exists, as does every other *.md file it names;
# - every --flag that README.md, docs/*.md, packaging/*.md and the man pages name is an option of
#   the built regd or regctl (read from their --help, so this follows the code), or one of the
#   other tools' flags listed below.
# Usage: docs_test.sh SOURCE_DIR REGD REGCTL
set -euo pipefail
src=$(cd "$1" && pwd)
REGD=$2
REGCTL=$3
failed=0
bad() { echo "FAIL: $1: $2" >&2; failed=1; }

mapfile -t md_files < <(cd "$src" && find . -name '*.md' -not -path './build*' -not -path './.git/*' | sed 's|^\./||' | sort)
((${#md_files[@]} > 0)) || { echo "FAIL: no *.md under $src" >&2; exit 1; }

# prose FILE: the file without fenced code blocks and without inline code spans.
prose() { awk '/^[[:space:]]*(```|~~~)/ {fence = !fence; next} !fence' "$1" | sed 's/`[^`]*`//g'; }
# code_spans FILE: the inline code spans outside fenced blocks, one a line.
code_spans() { awk '/^[[:space:]]*(```|~~~)/ {fence = !fence; next} !fence' "$1" | grep -oE '`[^`]+`' | tr -d '`' || true; }
# anchors FILE: GitHub's anchor of every heading: lower case, punctuation dropped, blanks to "-".
anchors() {
  awk '/^[[:space:]]*(```|~~~)/ {fence = !fence; next} !fence && /^#+ /' "$1" | sed -E 's/^#+ +//' |
    tr '[:upper:]' '[:lower:]' | sed -E 's/`//g; s/[^[:alnum:] _-]//g; s/ /-/g'
}

# 1. Relative links: [text](target) and reference definitions [label]: target.
links=0
for md in "${md_files[@]}"; do
  base=$(dirname "$src/$md")
  while IFS= read -r target; do
    [[ -n $target ]] || continue
    case $target in http://* | https://* | mailto:*) continue ;; esac
    links=$((links + 1))
    path=${target%%#*}
    anchor=""
    [[ $target == *#* ]] && anchor=${target#*#}
    file=$src/$md
    if [[ -n $path ]]; then
      file=$base/$path
      [[ -e $file ]] || { bad "$md" "link to missing $target"; continue; }
    fi
    if [[ -n $anchor && $file == *.md ]]; then
      anchors "$file" | grep -qxF -- "$anchor" || bad "$md" "link to missing heading $target"
    fi
  done < <(prose "$src/$md" | grep -oE '\]\([^) ]+\)|^\[[^]]+\]: *[^ ]+' | sed -E 's/^\]\(//; s/\)$//; s/^\[[^]]+\]: *//')
done

# 2. Paths named in code spans: repository paths (starting with a top-level entry of the tree)
# and *.md files, relative to the repository or to the document. Placeholders (<hex>, …) are
# not paths.
top=$(cd "$src" && ls -A | grep -vE '^(\.git|build.*)$' | tr '\n' '|')
top=${top%|}
paths=0
for md in "${md_files[@]}"; do
  base=$(dirname "$src/$md")
  while IFS= read -r span; do
    # Only plain path characters, globs and braces: anything else is no path (and eval below
    # must see nothing else).
    [[ $span =~ ^[A-Za-z0-9_./*{},+-]+$ ]] || continue
    [[ $span =~ ^($top)/ || $span =~ ^[A-Za-z0-9_./-]+\.md$ || ($md == docs/* && $span =~ ^examples/) ]] || continue
    paths=$((paths + 1))
    found=0
    for dir in "$src" "$base"; do
      # Globs (core/src/gc*.cc) and braces (core/src/layout.{h,cc}) name files too: each must exist.
      mapfile -t expanded < <(cd "$dir" && eval "printf '%s\n' $span" 2>/dev/null)
      ok=1
      for f in "${expanded[@]}"; do
        [[ -e $dir/$f ]] || ok=0
      done
      ((${#expanded[@]} > 0 && ok)) && found=1 && break
    done
    ((found)) || bad "$md" "names missing path \`$span\`"
  done < <(code_spans "$src/$md"; prose "$src/$md" | grep -oE '[A-Za-z0-9_./-]+\.md\b' || true)
done

# 3. Flags. Other tools' flags the documents use, by tool:
foreign=(
  --dest-tls-verify --src-tls-verify --tls-verify --format                   # skopeo
  --authfile --password-stdin --creds --src-creds --dest-creds               # skopeo, podman
  --cert-dir --src-cert-dir --dest-cert-dir                                  # skopeo, podman
  --cacert                                                                   # curl
  --volfile-server --volfile-id --attribute-timeout --entry-timeout          # glusterfs
  --negative-timeout --fopen-keep-cache
  --install --prefix --build --test-dir --output-on-failure                  # cmake, ctest
  --build-only --bench                                                       # scripts/install-deps.sh
  --layout --image                                                           # umoci
  --now                                                                      # systemctl
)
help_flags() { "$@" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' || true; }
known=$(
  help_flags "$REGD"
  help_flags "$REGCTL"
  for cmd in $("$REGCTL" --help | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && !NF {exit} on && /^  [a-z]/ {print $1}'); do
    help_flags "$REGCTL" "$cmd"
  done
  printf '%s\n' "${foreign[@]}"
)
grep -qx -- --root <<<"$known" || { echo "FAIL: no --root in the --help of $REGD and $REGCTL" >&2; exit 1; }
flags=0
doc_texts() {
  local f
  for f in README.md docs/*.md packaging/*.md; do
    [[ -f $src/$f ]] && sed "s|^|$f: |" "$src/$f"
  done
  for f in "$src"/man/*.[1-8]; do
    mandoc -T utf8 "$f" 2>/dev/null | col -bx | sed "s|^|man/$(basename "$f"): |"
  done
}
while IFS= read -r hit; do
  flags=$((flags + 1))
  file=${hit%%:*}
  flag=${hit#*:}
  grep -qxF -- "$flag" <<<"$known" || bad "$file" "names $flag, which neither regd --help nor regctl [COMMAND] --help lists"
done < <(doc_texts | sed -E 's/^([^:]+): (.*)$/\1\t\2/' |
  awk -F'\t' '{ line = $2; while (match(line, /(^|[^[:alnum:]-])--[a-z][a-z0-9-]*/)) {
      tok = substr(line, RSTART, RLENGTH); sub(/^[^-]/, "", tok); print $1 ":" tok; line = substr(line, RSTART + RLENGTH) } }' |
  sort -u)

((failed == 0)) || exit 1
echo "ok: $links relative links, $paths named paths and $flags flags in ${#md_files[@]} documents and the man pages resolve"
