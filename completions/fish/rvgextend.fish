complete -c rvgextend -l dataalignment -d 'Align the start of the data area to this size (default 1 MiB)' -r
complete -c rvgextend -l metadatasize -d 'Size of the metadata area' -r
complete -c rvgextend -s f -l force -d 'Overwrite an existing signature on a device being initialised'
complete -c rvgextend -s y -l yes -d 'Answer yes to every prompt (rlvm does not prompt; accepted for lvm2 compatibility)'
complete -c rvgextend -s h -l help -d 'Print help'
complete -c rvgextend -s V -l version -d 'Print version'
