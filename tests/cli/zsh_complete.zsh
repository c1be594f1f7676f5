#!/bin/zsh -f
# zsh_complete.zsh COMPLETIONS_DIR LINE: prints the candidates zsh's completion system offers
# at the end of LINE, one a line. Runs an interactive zsh on a pseudo-terminal (zpty) with
# COMPLETIONS_DIR first on fpath, types LINE and a Tab, and records every match compadd adds.
zmodload zsh/zpty || exit 77
dir=$1 line=$2
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT=''; fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -D"
# compadd -A computes the matches without adding them; then they are added as usual.
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits; builtin compadd -A __hits "$@"
  (( $#__hits )) && print -r -l -- "<<"${^__hits}">>"
  builtin compadd "$@"
}'
zpty -w z "bindkey '^I' complete-word; zstyle ':completion:*' menu no"
# read_until WORD: reads the terminal until WORD appears (the echo of the command that prints
# it spells it with quotes inside, so only the output matches).
read_until() {
  local chunk i
  out=""
  for i in {1..250}; do
    if zpty -r -t z chunk 2>/dev/null; then
      out+=$chunk
      [[ $out == *$1* ]] && return 0
    else
      sleep 0.02
    fi
  done
  print -u2 "zsh_complete: no $1 completing '$line': ${(q)out}"
  zpty -d z
  exit 1
}
zpty -w z "print -r -- RE''ADY"
read_until READY
zpty -n -w z "$line"$'\t'
zpty -n -w z $'\C-u'"print -r -- DO''NE"$'\n'
read_until DONE
zpty -d z
print -r -- $out | grep -o '<<[^>]*>>' | sed 's/^<<//; s/>>$//' | sort -u
