complete -c rpvscan -l add -d 'Register these image files, which must carry an LVM2 label, then list' -r -F
complete -c rpvscan -s s -l short -d 'Only the device names'
complete -c rpvscan -s n -l novolumegroup -d 'Only PVs that belong to no VG'
complete -c rpvscan -s e -l exported -d 'Only PVs of exported VGs'
complete -c rpvscan -l cache -d 'Accepted for lvm2 compatibility: rlvm keeps no PV cache to update'
complete -c rpvscan -s h -l help -d 'Print help'
complete -c rpvscan -s V -l version -d 'Print version'
