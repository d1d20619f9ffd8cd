complete -c rvgcreate -s s -l physicalextentsize -d 'Extent size (default 4 MiB)' -r
complete -c rvgcreate -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgcreate -s h -l help -d 'Print help'
complete -c rvgcreate -s V -l version -d 'Print version'
