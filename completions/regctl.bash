# bash completion for regctl(1). Installed into bash-completion's completions directory.

# regctl with the storage root of the command line being completed (else $REGCTL_ROOT) and its
# --s3-* options; quietly nothing when there is none.
_regctl_query() {
  local root_args=()
  [[ -n $_regctl_root ]] && root_args=(--root "$_regctl_root")
  regctl "${root_args[@]}" "${_regctl_s3_args[@]}" -q "$@" 2>/dev/null
}

# Completes a repository name; with $1 = tag also REPO:TAG, the tags of REPO once a colon is
# typed. A digest after "@" is not completed.
_regctl_complete_reference() {
  if [[ $cur == *@* ]]; then
    return
  fi
  if [[ $cur == *:* ]]; then
    [[ ${1:-} == tag ]] || return
    local repo=${cur%%:*} tag
    COMPREPLY=()
    while IFS= read -r tag; do
      [[ -n $tag ]] && COMPREPLY+=("$repo:$tag")
    done < <(_regctl_query tags "$repo")
    COMPREPLY=($(compgen -W "${COMPREPLY[*]}" -- "$cur"))
    __ltrim_colon_completions "$cur"
    return
  fi
  COMPREPLY=($(compgen -W "$(_regctl_query ls)" -- "$cur"))
}

# Completes an image location: a transport (TRANSPORT: without a space), then the file or
# directory after it. $@: the transports allowed here.
_regctl_complete_location() {
  if [[ $cur == *:* ]]; then
    local transport=${cur%%:*} path=${cur#*:}
    if [[ " $* " != *" $transport: "* ]]; then
      return
    fi
    if [[ $transport == oci ]]; then
      COMPREPLY=($(compgen -d -- "$path"))
    else
      COMPREPLY=($(compgen -f -- "$path"))
    fi
    COMPREPLY=("${COMPREPLY[@]/#/$transport:}")
    __ltrim_colon_completions "$cur"
    compopt -o filenames 2>/dev/null
    return
  fi
  COMPREPLY=($(compgen -W "$*" -- "$cur"))
  compopt -o nospace 2>/dev/null
}

_regctl() {
  local cur prev words cword split
  # -s: "--root=PATH" is one word, and cur is the part after "=" when completing it.
  _init_completion -s -n : || return

  local commands="push pull ls tags inspect tag rm cp du verify gc prune sync"
  local s3="--s3-endpoint --s3-region --s3-credentials --s3-profile"
  local globals="--root $s3 --init --immutable-tags --quiet -q --help --version"
  # Options that take a value, which is then not a positional argument.
  local valued="--root $s3 --immutable-tags --jobs -j --grace --link-refresh --upload-ttl --repository --match --keep
    --keep-within --untagged-older-than --authfile --creds --tls-verify --ca --chunk-size --retries --mount-from"
  # The options of a command that reaches a docker:// registry.
  local remote="--authfile --creds --tls-verify --ca --chunk-size --retries"
  local i word command="" nargs=0 _regctl_root="" _regctl_s3_args=()
  for ((i = 1; i < cword; i++)); do
    word=${words[i]}
    case $word in
      --root=*) _regctl_root=${word#--root=} ;;
      --s3-*=*) _regctl_s3_args+=("$word") ;;
      --*=*) ;;
      -*)
        if [[ " $valued " == *" $word "* ]]; then
          [[ $word == --root ]] && _regctl_root=${words[i + 1]}
          [[ " $s3 " == *" $word "* ]] && _regctl_s3_args+=("$word" "${words[i + 1]}")
          ((i++))
        fi
        ;;
      *)
        if [[ -z $command ]]; then
          [[ " $commands " == *" $word "* ]] && command=$word
        else
          ((nargs++))
        fi
        ;;
    esac
  done
  # A root given as "~/x" on the command line.
  [[ $_regctl_root == "~"* ]] && _regctl_root=${_regctl_root/#\~/$HOME}

  case $prev in
    --root)
      _filedir -d
      return
      ;;
    --authfile | --ca | --s3-credentials)
      _filedir
      return
      ;;
    --tls-verify)
      COMPREPLY=($(compgen -W "true false" -- "$cur"))
      return
      ;;
    --creds | --chunk-size | --retries | --mount-from | --s3-endpoint | --s3-region | --s3-profile)
      return
      ;;
    --repository)
      _regctl_complete_reference
      return
      ;;
    --jobs | -j | --grace | --link-refresh | --upload-ttl | --immutable-tags | --match | --keep | --keep-within | \
      --untagged-older-than)
      return
      ;;
  esac
  if $split; then
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

  local flags=""
  case $command in
    push) flags="--all --json --referrers --mount-from $remote" ;;
    pull) flags="--referrers --json --mount-from $remote" ;;
    cp) flags="--json --referrers --mount-from $remote" ;;
    sync) flags="--json $remote" ;;
    ls | tags | du) flags="--json" ;;
    inspect) flags="--raw --config --json" ;;
    rm) flags="--manifest --repository" ;;
    verify) flags="--jobs -j --quarantine --repair --grace --link-refresh --force --json" ;;
    gc) flags="--dry-run -n --delete-untagged --grace --link-refresh --force --upload-ttl --json --verbose -v" ;;
    prune) flags="--match --keep --keep-within --untagged-older-than --link-refresh --dry-run -n --json" ;;
  esac
  if [[ $cur == -* ]]; then
    # The subcommand's flags, its --help, and the global options that also work after it.
    COMPREPLY=($(compgen -W "$flags --help --root $s3 --init --immutable-tags --quiet -q" -- "$cur"))
    return
  fi

  # The argument being completed is positional argument nargs + 1 of the command.
  case $command:$nargs in
    push:0) _regctl_complete_location oci: oci-archive: docker-archive: docker:// ;;
    push:1 | pull:0 | inspect:0 | tag:0 | rm:0 | cp:[01]) _regctl_complete_reference tag ;;
    tags:0 | du:* | verify:* | prune:*) _regctl_complete_reference ;;
    pull:1) _regctl_complete_location oci: oci-archive: docker:// ;;
    sync:0) _filedir ;;
  esac
}
complete -F _regctl regctl
