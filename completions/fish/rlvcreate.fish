complete -c rlvcreate -s L -l size -d 'Size (default unit MiB), rounded up to whole extents' -r
complete -c rlvcreate -s l -l extents -d 'Size in extents, or N%FREE / N%VG' -r
complete -c rlvcreate -s n -l name -d 'Name of the new LV' -r
complete -c rlvcreate -s a -l activate -d 'Activate the new LV (y, the default) or not (n)' -r -f -a "y\t''
n\t''"
complete -c rlvcreate -s Z -l zero -d 'Zero the start of the new LV (accepted for lvm2 compatibility; rlvm does not zero linear LVs)' -r -f -a "y\t''
n\t''"
complete -c rlvcreate -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvcreate -s h -l help -d 'Print help'
complete -c rlvcreate -s V -l version -d 'Print version'
