complete -c rpvresize -l setphysicalvolumesize -d 'Use this size instead of the device\'s (units as lvm2: default MiB)' -r
complete -c rpvresize -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rpvresize -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rpvresize -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rpvresize -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rpvresize -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rpvresize -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rpvresize -l devicesfile -d 'A devices file other than the default' -r
complete -c rpvresize -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rpvresize -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rpvresize -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rpvresize -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rpvresize -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rpvresize -s y -l yes -d 'Answer yes to every prompt'
complete -c rpvresize -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rpvresize -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rpvresize -l version -d 'Display version information (lvm2\'s layout)'
complete -c rpvresize -l longhelp -d 'Display long help text'
complete -c rpvresize -s h -l help -d 'Print help (see more with \'--help\')'
