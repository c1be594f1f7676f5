#!/bin/bash
# The completions offer what regctl accepts where it accepts it. Bash: the subcommands and the
# flags of `regctl --help` and `regctl CMD --help` (each once), transports where a location goes
# and repositories where a repository goes, the tags of REPO after "REPO:", directories after
# "oci:", and the storage root from --root PATH, --root=PATH or $REGCTL_ROOT. zsh (on a
# pseudo-terminal, zsh_complete.zsh) and fish (complete -C): the same positions. Both also parse
# and know every subcommand. Usage: completion_test.sh COMPLETIONS_DIR REGCTL
set -euo pipefail
dir=$1
REGCTL=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
[[ -f /usr/share/bash-completion/bash_completion ]] || {
  echo "skip: bash-completion is not installed (scripts/install-deps.sh)"
  exit 77
}
setup_work
unset REGCTL_ROOT
mkdir -p "$WORK/bin"
ln -s "$REGCTL" "$WORK/bin/regctl"
export PATH="$WORK/bin:$PATH"

# complete LINE: the candidates bash offers at the end of LINE, one a line. LINE is split into
# COMP_WORDS as readline splits it: at blanks, and around the characters of COMP_WORDBREAKS that
# matter here (":" and "="), which become words of their own.
complete_line() {
  bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion
    source "$1"
    line=$2
    COMP_WORDS=() word=""
    for ((k = 0; k < ${#line}; k++)); do
      c=${line:k:1}
      case $c in
        " ") [[ -n $word ]] && COMP_WORDS+=("$word"); word="" ;;
        [:=])
          if [[ -n $word && $word != *[:=] ]]; then COMP_WORDS+=("$word"); word=""; fi
          word+=$c ;;
        *)
          if [[ $word == *[:=] ]]; then COMP_WORDS+=("$word"); word=""; fi
          word+=$c ;;
      esac
    done
    COMP_WORDS+=("$word")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    _regctl regctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]:-}"
    ((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}"' _ "$dir/regctl.bash" "$1"
}
words() { sort | tr '\n' ' ' | sed 's/ $//'; }
# expect LINE WANT: the candidates are exactly the space-separated WANT, in any order.
expect() {
  local got want
  got=$(complete_line "$1" | words)
  want=$(tr ' ' '\n' <<<"$2" | grep -v '^$' | words || true)
  [[ $got == "$want" ]] || { echo "FAIL: completing '$1': got '$got', want '$want'" >&2; failures=$((failures + 1)); }
}
failures=0
# checked MESSAGE: passes MESSAGE if no expectation failed so far, else stops.
checked() { ((failures == 0)) || fail "$failures completions wrong"; pass "$1"; }

# The subcommands and each subcommand's options, from regctl's own help.
help_commands() { "$REGCTL" --help | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && !NF {exit} on && /^  [a-z]/ {print $1}'; }
# help_flags CMD: CMD's options, from `regctl CMD --help` run once per command (a sanitizer
# build of regctl takes a good part of a second to start).
help_flags() {
  [[ -f $WORK/help.$1 ]] || "$REGCTL" "$1" --help >"$WORK/help.$1"
  sed -n '/^OPTIONS:/I,/^[A-Z]/p' "$WORK/help.$1" | sed 1d | grep -oE '^ +(-[a-z],)?--?[a-z][a-z-]*' |
    tr ',' '\n' | tr -d ' ' | grep -vx -- -h
}
commands=$(help_commands | words)
[[ -n $commands ]] || fail "no subcommands in regctl --help"
expect "regctl " "$commands"
expect "regctl ve" "verify"
s3="--s3-endpoint --s3-region --s3-credentials --s3-profile"
globals="--help --init --immutable-tags --quiet --root $s3 --version -q"
expect "regctl -" "$(tr ' ' '\n' <<<"$globals" | words)"
# After the subcommand: its own flags, and the global options that still work there (not --version).
for c in $commands; do
  expect "regctl $c -" "$( (help_flags "$c"; printf '%s\n' --root $s3 --init --immutable-tags --quiet -q) | sort -u | words)"
done
checked "subcommands and flags match regctl --help, --help offered once"

# A storage root with two repositories.
make_layout "$WORK/layout" 1.0 >/dev/null
root=$WORK/root
expect_rc 0 "$REGCTL" --root "$root" push "oci:$WORK/layout:1.0" team/app:1.0
expect_rc 0 "$REGCTL" --root "$root" tag team/app:1.0 2.0
expect_rc 0 "$REGCTL" --root "$root" push "oci:$WORK/layout:1.0" tools/x:1.0

expect "regctl --root $root p" "prune pull push"
expect "regctl --root=$root p" "prune pull push"
expect "regctl --root $root tags " "team/app tools/x"
expect "regctl --root=$root tags t" "team/app tools/x"
expect "regctl --root=$WORK/ro" "$WORK/root"
expect "regctl --root $WORK/ro" "$WORK/root"
REGCTL_ROOT=$root expect "regctl tags te" "team/app"
expect "regctl tags " ""
checked "the storage root comes from --root PATH, --root=PATH or REGCTL_ROOT"

expect "regctl push o" "oci: oci-archive:"
expect "regctl push " "docker-archive: docker:// oci-archive: oci:"
expect "regctl --root $root push oci:$WORK/layout " "team/app tools/x"
expect "regctl --root $root push --all oci:$WORK/layout t" "team/app tools/x"
expect "regctl --root $root pull " "team/app tools/x"
expect "regctl --root $root pull team/app:1.0 " "docker:// oci-archive: oci:"
expect "regctl --root $root cp team/app:1.0 " "team/app tools/x"
expect "regctl --root $root verify -j 2 " "team/app tools/x"
expect "regctl --root $root gc --grace 2h " ""
expect "regctl --root $root rm --repository " "team/app tools/x"
expect "regctl --root $root prune --keep 3 --match 'v*' " "team/app tools/x"
expect "regctl --root $root --immutable-tags v1 prune " "team/app tools/x"
# --s3-* values are no positional arguments, and the queries pass them on (a directory root
# ignores them).
expect "regctl --s3-region eu-west-1 --root $root tags " "team/app tools/x"
expect "regctl --root $root --s3-profile=ci --s3-endpoint http://127.0.0.1:1 pull " "team/app tools/x"
expect "regctl --s3-region " ""
checked "transports where a location goes, repositories where a repository goes"

# After "REPO:" the tags of REPO. Bash replaces the word after the last ":", so the candidates
# are the tags themselves.
expect "regctl --root $root inspect team/app:" "1.0 2.0"
expect "regctl --root=$root rm team/app:2" "2.0"
expect "regctl --root $root pull team/app:" "1.0 2.0"
expect "regctl --root $root tags team/app:" ""
mkdir -p "$WORK/layouts/one" "$WORK/layouts/two"
expect "regctl push oci:$WORK/layouts/o" "$WORK/layouts/one"
checked "tags after REPO:, directories after oci:"

missing=()
for c in $commands; do
  grep -q "'$c:" "$dir/_regctl" || missing+=("zsh:$c")
  grep -q -- "-a $c " "$dir/regctl.fish" || missing+=("fish:$c")
done
# Every flag of every subcommand, and every global option, in zsh's and fish's too.
for c in $commands; do
  for f in $(help_flags "$c" | grep -- '^--' | grep -vx -- --help); do
    awk -v c="$c" '$0 ~ "^ +" c "\\)" {on = 1} on && /;;/ {print; exit} on' "$dir/_regctl" | grep -qF -- "$f" ||
      missing+=("zsh:$c:$f")
    grep -E "__fish_seen_subcommand_from [^\"]*\<$c\>" "$dir/regctl.fish" | grep -qE -- "-l ${f#--}( |$)" ||
      missing+=("fish:$c:$f")
  done
done
for f in $globals; do
  [[ $f == --* ]] || continue
  grep -qE -- "$f(\[|=\[|\})" "$dir/_regctl" || missing+=("zsh:$f")
  grep -qE -- "^complete -c regctl .*-l ${f#--}( |$)" "$dir/regctl.fish" || missing+=("fish:$f")
done
((${#missing[@]} == 0)) || fail "subcommands or flags without completion: ${missing[*]}"
if command -v zsh >/dev/null; then
  zsh -n "$dir/_regctl" || fail "zsh completion does not parse"
fi
if command -v fish >/dev/null; then
  fish --no-execute "$dir/regctl.fish" || fail "fish completion does not parse"
fi
pass "zsh and fish completions parse and know every subcommand and flag"

# zsh: the same positions, through zsh's completion system on a pseudo-terminal.
if command -v zsh >/dev/null; then
  zsh_expect() {
    local got want
    got=$(zsh -f "$(dirname "$0")/zsh_complete.zsh" "$dir" "$1" | words)
    want=$(tr ' ' '\n' <<<"$2" | grep -v '^$' | words || true)
    [[ $got == "$want" ]] || { echo "FAIL: zsh completing '$1': got '$got', want '$want'" >&2; failures=$((failures + 1)); }
  }
  zsh_expect "regctl " "$commands"
  zsh_expect "regctl push " "oci: oci-archive: docker-archive: docker://"
  zsh_expect "regctl --root $root push oci:$WORK/layout " "team/app tools/x"
  zsh_expect "regctl --root=$root pull " "team/app tools/x"
  zsh_expect "regctl --root=$root pull team/app:1.0 " "oci: oci-archive: docker://"
  zsh_expect "regctl --root $root inspect team/app:" "1.0 2.0"
  zsh_expect "regctl --root $root cp team/app:1.0 t" "team/app tools/x"
  zsh_expect "regctl push oci:$WORK/layouts/o" "one"
  zsh_expect "regctl --root $root prune --keep 3 t" "team/app tools/x"
  zsh_expect "regctl --root $root rm --repository t" "team/app tools/x"
  zsh_expect "regctl --root $root --s3-region eu-west-1 tags t" "team/app tools/x"
  checked "zsh: transports, repositories and REPO:TAG where each goes; --root PATH and --root=PATH"
fi

# fish: the same positions, through fish's own `complete -C`.
if command -v fish >/dev/null; then
  fish_expect() {
    local got want
    got=$(fish --no-config -c 'source $argv[1]; complete -C $argv[2]' "$dir/regctl.fish" "$1" | cut -f1 | words)
    want=$(tr ' ' '\n' <<<"$2" | grep -v '^$' | words || true)
    [[ $got == "$want" ]] || { echo "FAIL: fish completing '$1': got '$got', want '$want'" >&2; failures=$((failures + 1)); }
  }
  fish_expect "regctl push " "oci: oci-archive: docker-archive: docker://"
  fish_expect "regctl --root $root push oci:$WORK/layout " "team/app tools/x"
  fish_expect "regctl --root=$root pull " "team/app tools/x"
  fish_expect "regctl --root=$root pull team/app:1.0 " "oci: oci-archive: docker://"
  fish_expect "regctl --root $root inspect team/app:" "team/app:1.0 team/app:2.0"
  fish_expect "regctl --root $root cp team/app:1.0 t" "team/app tools/x"
  fish_expect "regctl --root $root verify -j 2 t" "team/app tools/x"
  fish_expect "regctl push oci:$WORK/layouts/o" "oci:$WORK/layouts/one/"
  fish_expect "regctl --root $root prune --keep 3 t" "team/app tools/x"
  fish_expect "regctl --root $root rm --repository t" "team/app tools/x"
  fish_expect "regctl --s3-region eu-west-1 --root $root tags t" "team/app tools/x"
  checked "fish: transports, repositories and REPO:TAG where each goes; --root PATH and --root=PATH"
fi
