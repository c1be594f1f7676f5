#!/bin/bash
# The bash completion completes regctl's subcommands and their flags; the zsh and fish files
# at least parse. Usage: completion_test.sh COMPLETIONS_DIR
set -euo pipefail
dir=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

# complete WORDS...: prints the candidates bash offers for the last word.
complete_words() {
  bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion
    source "$1"
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    _regctl regctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$dir/regctl.bash" "$@"
}

all=$(complete_words regctl "")
for c in push pull ls tags inspect tag rm cp du verify; do
  grep -qx "$c" <<<"$all" || fail "subcommand $c not offered: $all"
done
[[ $(complete_words regctl ve) == verify ]] || fail "prefix ve"
[[ $(complete_words regctl --root /tmp p | sort | tr '\n' ' ') == "pull push " ]] || fail "after --root"
grep -qx -- --quarantine <<<"$(complete_words regctl verify --)" || fail "verify flags"
grep -qx -- --repair <<<"$(complete_words regctl verify --r)" || fail "verify --repair"
for flag in --link-refresh --force; do
  grep -qx -- "$flag" <<<"$(complete_words regctl gc --)" || fail "gc $flag"
  grep -qx -- "$flag" <<<"$(complete_words regctl verify --)" || fail "verify $flag"
done
grep -qx -- --raw <<<"$(complete_words regctl inspect --r)" || fail "inspect flags"
grep -qx oci-archive: <<<"$(complete_words regctl push o)" || fail "push transports"
echo "ok: bash completion"

if command -v zsh >/dev/null; then
  zsh -n "$dir/_regctl" || fail "zsh completion does not parse"
fi
if command -v fish >/dev/null; then
  fish --no-execute "$dir/regctl.fish" || fail "fish completion does not parse"
fi
echo "ok: zsh and fish completions parse"
