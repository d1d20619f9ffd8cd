complete -c rlvresize -s i -l stripes -d 'Stripe over this many PVs (default: 1 for a new LV, as the last segment when extending)' -r
complete -c rlvresize -s I -l stripesize -d 'Stripe size, a power of 2 of 4k or more (default unit KiB; default: 64k for a new LV, the last segment\'s when extending)' -r
complete -c rlvresize -l alloc -d 'Allocation policy: contiguous, cling, normal (the default), anywhere, inherit' -r -f -a "contiguous\t''
cling\t''
cling_by_tags\t''
normal\t''
anywhere\t''
inherit\t''"
complete -c rlvresize -s L -l size -d 'New size, or +SIZE to add' -r
complete -c rlvresize -s l -l extents -d 'New size in extents, or +N to add; N%FREE, N%VG, N%PVS, N%ORIGIN too' -r
complete -c rlvresize -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvresize -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvresize -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvresize -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvresize -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvresize -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvresize -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvresize -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvresize -s A -l autobackup -d 'Back up the metadata after a change (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvresize -l use-policies -d 'Apply the snapshot autoextend policy (activation/snapshot_autoextend_*)'
complete -c rlvresize -s r -l resizefs -d 'Resize the filesystem on the LV too (resize2fs, xfs_growfs)'
complete -c rlvresize -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvresize -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvresize -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvresize -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvresize -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvresize -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvresize -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvresize -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvresize -l longhelp -d 'Display long help text'
complete -c rlvresize -s f -l force -d 'Override various checks and confirmations; repeat (-ff) to force more'
complete -c rlvresize -s h -l help -d 'Print help (see more with \'--help\')'
