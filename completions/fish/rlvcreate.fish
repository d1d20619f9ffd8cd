complete -c rlvcreate -s c -l chunksize -d 'Snapshot chunk size (default 4k): a power of 2 from 4k to 512k' -r
complete -c rlvcreate -s p -l permission -d 'Permission: rw (default) or r' -r -f -a "r\t''
rw\t''"
complete -c rlvcreate -s L -l size -d 'Size (default unit MiB), rounded up to whole extents' -r
complete -c rlvcreate -s l -l extents -d 'Size in extents, or N%FREE / N%VG / N%ORIGIN' -r
complete -c rlvcreate -s n -l name -d 'Name of the new LV (default lvolN)' -r
complete -c rlvcreate -s a -l activate -d 'Activate the new LV (y, the default) or not (n)' -r -f -a "y\t''
n\t''"
complete -c rlvcreate -s Z -l zero -d 'Zero the start of the new LV (accepted for lvm2 compatibility; rlvm does not zero linear LVs)' -r -f -a "y\t''
n\t''"
complete -c rlvcreate -s s -l snapshot -d 'Create a snapshot of VG/ORIGIN (its COW gets the size given)'
complete -c rlvcreate -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvcreate -s h -l help -d 'Print help'
complete -c rlvcreate -s V -l version -d 'Print version'
