complete -c rpvcreate -l dataalignment -d 'Align the start of the data area to this size (default 1 MiB)' -r
complete -c rpvcreate -l metadatasize -d 'Size of the metadata area' -r
complete -c rpvcreate -s f -l force -d 'Overwrite an existing signature on a device being initialised'
complete -c rpvcreate -s y -l yes -d 'Answer yes to every prompt (rlvm does not prompt; accepted for lvm2 compatibility)'
complete -c rpvcreate -s h -l help -d 'Print help'
complete -c rpvcreate -s V -l version -d 'Print version'
