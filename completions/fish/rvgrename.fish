complete -c rvgrename -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgrename -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgrename -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgrename -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgrename -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgrename -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgrename -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgrename -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgrename -s A -l autobackup -d 'Back up the metadata after a change (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgrename -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgrename -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgrename -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgrename -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgrename -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgrename -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgrename -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgrename -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgrename -l longhelp -d 'Display long help text'
complete -c rvgrename -s f -l force -d 'Override various checks and confirmations; repeat (-ff) to force more'
complete -c rvgrename -s h -l help -d 'Print help (see more with \'--help\')'
