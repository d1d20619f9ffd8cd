complete -c rlvscan -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvscan -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvscan -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvscan -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvscan -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvscan -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvscan -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvscan -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvscan -s a -l all -d 'Show hidden LVs too'
complete -c rlvscan -s b -l blockdevice -d 'Accepted as lvm2 accepts it (no device numbers are printed)'
complete -c rlvscan -l ignorelockingfailure -d 'Accepted as lvm2 accepts it'
complete -c rlvscan -l readonly -d 'Accepted as lvm2 accepts it (lvscan only reads)'
complete -c rlvscan -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvscan -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvscan -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvscan -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvscan -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvscan -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvscan -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvscan -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvscan -l longhelp -d 'Display long help text'
complete -c rlvscan -s h -l help -d 'Print help (see more with \'--help\')'
