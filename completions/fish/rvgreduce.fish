complete -c rvgreduce -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgreduce -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgreduce -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgreduce -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgreduce -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgreduce -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgreduce -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgreduce -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgreduce -s A -l autobackup -d 'Back up the metadata after a change (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgreduce -s a -l all -d 'Remove every PV that holds no logical volume (the last one stays)'
complete -c rvgreduce -l removemissing -d 'Remove PVs that cannot be found from the metadata'
complete -c rvgreduce -l mirrorsonly -d 'With --removemissing, only from mirror LVs (rlvm has none; accepted)'
complete -c rvgreduce -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgreduce -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgreduce -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgreduce -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgreduce -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgreduce -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgreduce -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgreduce -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgreduce -l longhelp -d 'Display long help text'
complete -c rvgreduce -s f -l force -d 'Override various checks and confirmations; repeat (-ff) to force more'
complete -c rvgreduce -s h -l help -d 'Print help (see more with \'--help\')'
