# fish completion for regctl(1).

set -l commands push pull ls tags inspect tag rm cp du verify gc prune sync

# regctl with the storage root of the command line being completed (--root PATH or
# --root=PATH), else $REGCTL_ROOT, and the command line's --s3-* options.
function __regctl_query
    set -l tokens (commandline -opc)
    set -l root
    set -l s3
    for i in (seq (count $tokens))
        set -l next (math $i + 1)
        switch $tokens[$i]
            case '--root=*'
                set root (string replace -- '--root=' '' $tokens[$i])
            case --root
                set -q tokens[$next]; and set root $tokens[$next]
            case '--s3-*=*'
                set -a s3 $tokens[$i]
            case --s3-endpoint --s3-region --s3-credentials --s3-profile
                set -q tokens[$next]; and set -a s3 $tokens[$i] $tokens[$next]
        end
    end
    if test -n "$root"
        regctl --root $root $s3 -q $argv 2>/dev/null
    else
        regctl $s3 -q $argv 2>/dev/null
    end
end

# True when the token being completed is one of the positional arguments $argv (1-based) of
# the subcommand.
function __regctl_arg
    set -l tokens (commandline -opc)
    set -l seen 0
    set -l skip 0
    for t in $tokens[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case --root --s3-endpoint --s3-region --s3-credentials --s3-profile --immutable-tags -j --jobs --grace --link-refresh --upload-ttl --repository --match --keep \
                --keep-within --untagged-older-than
                set skip 1
            case '-*'
            case '*'
                set seen (math $seen + 1)
        end
    end
    # The subcommand is the first positional word, so the one being completed is number $seen.
    contains -- $seen $argv
end

# Repositories; once "REPO:" is typed, REPO's tags as REPO:TAG.
function __regctl_refs
    set -l cur (commandline -ct)
    if string match -q -- '*:*' $cur
        set -l repo (string split -m1 -- : $cur)[1]
        for tag in (__regctl_query tags $repo)
            echo $repo:$tag
        end
    else
        __regctl_query ls
    end
end

# Transports, then the file or directory after "TRANSPORT:". $argv: the transports allowed.
function __regctl_locations
    set -l cur (commandline -ct)
    set -l transport (string split -m1 -- : $cur)
    if test (count $transport) -eq 2; and contains -- $transport[1]: $argv
        for f in (__fish_complete_path $transport[2])
            echo $transport[1]:$f
        end
    else
        printf '%s\n' $argv
    end
end

complete -c regctl -f
complete -c regctl -l root -r -a '(__fish_complete_directories)' -d 'Storage root (a directory, or s3://BUCKET/PREFIX)'
complete -c regctl -l s3-endpoint -x -d 'S3 service of an s3:// root'
complete -c regctl -l s3-region -x -d 'Region of an s3:// root'
complete -c regctl -l s3-credentials -r -F -d 'Shared credentials file'
complete -c regctl -l s3-profile -x -d 'Section of the credentials file'
complete -c regctl -l init -d 'Create the registry tree (and bucket) when the root holds none'
complete -c regctl -l immutable-tags -x -d 'Tag patterns never moved or deleted (v*,release-*)'
complete -c regctl -s q -l quiet -d 'No progress and no summaries'
complete -c regctl -l help -d 'Show help'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -l version -d 'Show version'

complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a push -d 'Store an image from a layout or archive'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a pull -d 'Copy an image into a layout or archive'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a ls -d 'List repositories'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a tags -d 'List the tags of a repository'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a inspect -d 'Show a manifest and its config'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a tag -d 'Point a tag at a manifest'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a rm -d 'Delete a tag, a manifest or a repository'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a cp -d 'Copy an image between repositories'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a du -d 'Disk usage per repository'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a verify -d 'Check blobs, links, manifests, uploads'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a gc -d 'Collect garbage online'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a prune -d 'Remove old tags and untagged manifests by policy'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a sync -d 'Mirror repositories between the tree and registries'
complete -c regctl -n "__fish_seen_subcommand_from gc prune" -s n -l dry-run -d 'Report only'
complete -c regctl -n "__fish_seen_subcommand_from gc" -l delete-untagged -d 'Also remove untagged manifests'
complete -c regctl -n "__fish_seen_subcommand_from gc verify" -l grace -x -d 'Grace window (1h)'
complete -c regctl -n "__fish_seen_subcommand_from gc verify prune" -l link-refresh -x -d 'Link refresh of the regd instances (10m)'
complete -c regctl -n "__fish_seen_subcommand_from gc verify" -l force -d 'Allow a grace window not longer than the link refresh'
complete -c regctl -n "__fish_seen_subcommand_from gc" -l upload-ttl -x -d 'Upload TTL (7d)'
complete -c regctl -n "__fish_seen_subcommand_from gc prune" -l json -d 'JSON output'
complete -c regctl -n "__fish_seen_subcommand_from prune" -l match -x -d 'Tag patterns the rules apply to'
complete -c regctl -n "__fish_seen_subcommand_from prune" -l keep -x -d 'Keep the N newest matching tags'
complete -c regctl -n "__fish_seen_subcommand_from prune" -l keep-within -x -d 'Keep matching tags pushed within'
complete -c regctl -n "__fish_seen_subcommand_from prune" -l untagged-older-than -x -d 'Remove untagged manifests older than'
complete -c regctl -n "__fish_seen_subcommand_from gc" -s v -l verbose -d 'List what is removed'

complete -c regctl -n "__fish_seen_subcommand_from push" -l all -d 'Push every image of the layout'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp" -l referrers -d 'Also copy referrers'
complete -c regctl -n "__fish_seen_subcommand_from push pull ls tags inspect cp du verify sync" -l json -d 'JSON output'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp" -l mount-from -x -d 'Mount blobs from this repository of the target registry'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp sync" -l authfile -r -F -d 'Credentials file (auth.json)'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp sync" -l creds -x -d 'USER:PASSWORD for the registry'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp sync" -l tls-verify -x -a 'true false' -d 'Verify the certificate; false allows plain HTTP'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp sync" -l ca -r -F -d 'Trusted CAs (PEM)'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp sync" -l chunk-size -x -d 'Upload in chunks of this size'
complete -c regctl -n "__fish_seen_subcommand_from push pull cp sync" -l retries -x -d 'Retries of 429, 5xx and failed connections'
complete -c regctl -n "__fish_seen_subcommand_from inspect" -l raw -d 'Manifest bytes as stored'
complete -c regctl -n "__fish_seen_subcommand_from inspect" -l config -d 'Config bytes as stored'
complete -c regctl -n "__fish_seen_subcommand_from rm" -l manifest -d 'Delete the manifest the tag points to'
complete -c regctl -n "__fish_seen_subcommand_from rm" -l repository -x -a '(__regctl_query ls)' -d 'Delete a whole repository'
complete -c regctl -n "__fish_seen_subcommand_from verify" -s j -l jobs -x -d 'Hashing threads'
complete -c regctl -n "__fish_seen_subcommand_from verify" -l quarantine -d 'Move corrupt blobs aside'
complete -c regctl -n "__fish_seen_subcommand_from verify" -l repair -d 'Remove crash leftovers older than the grace window'

# Positional arguments: a location where one goes, a repository (or REPO:TAG) where one goes.
complete -c regctl -n "__fish_seen_subcommand_from push; and __regctl_arg 1" -a '(__regctl_locations oci: oci-archive: docker-archive: docker://)' -d 'Source'
complete -c regctl -n "__fish_seen_subcommand_from pull; and __regctl_arg 2" -a '(__regctl_locations oci: oci-archive: docker://)' -d 'Destination'
complete -c regctl -n "__fish_seen_subcommand_from sync; and __regctl_arg 1" -F -d 'Mirrors file'
complete -c regctl -n "__fish_seen_subcommand_from push; and __regctl_arg 2" -a '(__regctl_refs)' -d 'Repository'
complete -c regctl -n "__fish_seen_subcommand_from pull inspect tag rm; and __regctl_arg 1" -a '(__regctl_refs)' -d 'Image'
complete -c regctl -n "__fish_seen_subcommand_from cp; and __regctl_arg 1 2" -a '(__regctl_refs)' -d 'Image'
complete -c regctl -n "__fish_seen_subcommand_from tags; and __regctl_arg 1" -a '(__regctl_query ls)' -d 'Repository'
complete -c regctl -n "__fish_seen_subcommand_from du verify prune" -a '(__regctl_query ls)' -d 'Repository'
