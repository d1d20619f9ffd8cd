complete -c rlvextend -s L -l size -d 'New size, or +SIZE to add' -r
complete -c rlvextend -s l -l extents -d 'New size in extents, or +N to add' -r
complete -c rlvextend -l config -d 'lvm.conf-style settings on top of the configuration file' -r
complete -c rlvextend -l use-policies -d 'Apply the snapshot autoextend policy (activation/snapshot_autoextend_*)'
complete -c rlvextend -s h -l help -d 'Print help'
complete -c rlvextend -s V -l version -d 'Print version'
