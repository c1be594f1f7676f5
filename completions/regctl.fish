# fish completion for regctl(1).

set -l commands push pull ls tags inspect tag rm cp du verify gc

function __regctl_repos
    regctl -q ls 2>/dev/null
end

complete -c regctl -f
complete -c regctl -l root -r -a '(__fish_complete_directories)' -d 'Storage root'
complete -c regctl -s q -l quiet -d 'No progress and no summaries'
complete -c regctl -l help -d 'Show help'
complete -c regctl -l version -d 'Show version'

complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a push -d 'Store an image from a layout or archive'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a pull -d 'Copy an image into a layout or archive'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a ls -d 'List repositories'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a tags -d 'List the tags of a repository'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a inspect -d 'Show a manifest and its config'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a tag -d 'Point a tag at a manifest'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a rm -d 'Delete a tag or a manifest'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a cp -d 'Copy an image between repositories'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a du -d 'Disk usage per repository'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a verify -d 'Check blobs, links, manifests, uploads'
complete -c regctl -n "not __fish_seen_subcommand_from $commands" -a gc -d 'Collect garbage online'
complete -c regctl -n "__fish_seen_subcommand_from gc" -s n -l dry-run -d 'Report only'
complete -c regctl -n "__fish_seen_subcommand_from gc" -l delete-untagged -d 'Also remove untagged manifests'
complete -c regctl -n "__fish_seen_subcommand_from gc verify" -l grace -x -d 'Grace window (1h)'
complete -c regctl -n "__fish_seen_subcommand_from gc verify" -l link-refresh -x -d 'Link refresh of the regd instances (10m)'
complete -c regctl -n "__fish_seen_subcommand_from gc verify" -l force -d 'Allow a grace window not longer than the link refresh'
complete -c regctl -n "__fish_seen_subcommand_from gc" -l upload-ttl -x -d 'Upload TTL (7d)'
complete -c regctl -n "__fish_seen_subcommand_from gc" -l json -d 'JSON output'
complete -c regctl -n "__fish_seen_subcommand_from gc" -s v -l verbose -d 'List what is removed'

complete -c regctl -n "__fish_seen_subcommand_from push" -l all -d 'Push every image of the layout'
complete -c regctl -n "__fish_seen_subcommand_from push" -a 'oci: oci-archive: docker-archive:' -d 'Transport'
complete -c regctl -n "__fish_seen_subcommand_from pull" -a 'oci: oci-archive:' -d 'Transport'
complete -c regctl -n "__fish_seen_subcommand_from pull" -l referrers -d 'Also copy referrers'
complete -c regctl -n "__fish_seen_subcommand_from push pull ls tags inspect cp du verify" -l json -d 'JSON output'
complete -c regctl -n "__fish_seen_subcommand_from inspect" -l raw -d 'Manifest bytes as stored'
complete -c regctl -n "__fish_seen_subcommand_from inspect" -l config -d 'Config bytes as stored'
complete -c regctl -n "__fish_seen_subcommand_from rm" -l manifest -d 'Delete the manifest the tag points to'
complete -c regctl -n "__fish_seen_subcommand_from verify" -s j -l jobs -x -d 'Hashing threads'
complete -c regctl -n "__fish_seen_subcommand_from verify" -l quarantine -d 'Move corrupt blobs aside'
complete -c regctl -n "__fish_seen_subcommand_from verify" -l repair -d 'Remove crash leftovers older than the grace window'
complete -c regctl -n "__fish_seen_subcommand_from pull tags inspect tag rm cp du verify" -a '(__regctl_repos)' -d 'Repository'
