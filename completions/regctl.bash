# bash completion for regctl(1). Installed into bash-completion's completions directory.

_regctl_repos() {
  # Repository names, when a storage root is known; quietly nothing otherwise.
  local root_args=()
  [[ -n $1 ]] && root_args=(--root "$1")
  regctl "${root_args[@]}" -q ls 2>/dev/null
}

_regctl() {
  local cur prev words cword
  _init_completion -n : || return

  local commands="push pull ls tags inspect tag rm cp du verify gc"
  local globals="--root --quiet -q --help --version"
  local i command="" root=""
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --root) root=${words[i + 1]} ;;
      -*) ;;
      *)
        if [[ -z $command && " $commands " == *" ${words[i]} "* && ${words[i - 1]} != --root ]]; then
          command=${words[i]}
        fi
        ;;
    esac
  done

  if [[ $prev == --root ]]; then
    _filedir -d
    return
  fi
  if [[ -z $command ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "$globals" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
    return
  fi

  local flags="--help"
  case $command in
    push) flags="--all --json --help" ;;
    pull) flags="--referrers --json --help" ;;
    ls | tags | cp | du) flags="--json --help" ;;
    inspect) flags="--raw --config --json --help" ;;
    rm) flags="--manifest --help" ;;
    verify) flags="--jobs --quarantine --repair --grace --link-refresh --force --json --help" ;;
    gc) flags="--dry-run --delete-untagged --grace --link-refresh --force --upload-ttl --json --verbose --help" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags $globals" -- "$cur"))
    return
  fi
  case $command in
    push | pull)
      if [[ $cur == *:* ]]; then
        # transport:path - complete the path part
        local transport=${cur%%:*}
        local path=${cur#*:}
        COMPREPLY=($(compgen -f -- "$path"))
        COMPREPLY=("${COMPREPLY[@]/#/$transport:}")
        __ltrim_colon_completions "$cur"
      elif [[ $command == push ]]; then
        COMPREPLY=($(compgen -W "oci: oci-archive: docker-archive:" -- "$cur"))
        compopt -o nospace 2>/dev/null
      else
        COMPREPLY=($(compgen -W "$(_regctl_repos "$root") oci: oci-archive:" -- "$cur"))
        [[ ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null
      fi
      ;;
    tags | inspect | tag | rm | cp | du | verify)
      COMPREPLY=($(compgen -W "$(_regctl_repos "$root")" -- "$cur"))
      ;;
  esac
}
complete -F _regctl regctl
