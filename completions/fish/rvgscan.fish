complete -c rvgscan -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgscan -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgscan -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgscan -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgscan -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgscan -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgscan -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgscan -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgscan -l mknodes -d 'Also make the /dev/VG/LV nodes of active LVs (needs a device-mapper)'
complete -c rvgscan -l notifydbus -d 'Accepted as lvm2 accepts it'
complete -c rvgscan -l ignorelockingfailure -d 'Accepted as lvm2 accepts it'
complete -c rvgscan -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgscan -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgscan -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgscan -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgscan -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgscan -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgscan -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgscan -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgscan -l longhelp -d 'Display long help text'
complete -c rvgscan -s h -l help -d 'Print help (see more with \'--help\')'
