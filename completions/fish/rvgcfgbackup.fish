complete -c rvgcfgbackup -s f -l file -d 'Write the metadata to this file instead (`%s`: the VG name)' -r -F
complete -c rvgcfgbackup -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgcfgbackup -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgcfgbackup -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgcfgbackup -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgcfgbackup -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgcfgbackup -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgcfgbackup -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgcfgbackup -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgcfgbackup -l ignorelockingfailure -d 'Ignored: lvm2\'s option for VGs whose metadata is inconsistent'
complete -c rvgcfgbackup -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgcfgbackup -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgcfgbackup -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgcfgbackup -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgcfgbackup -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgcfgbackup -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgcfgbackup -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgcfgbackup -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgcfgbackup -l longhelp -d 'Display long help text'
complete -c rvgcfgbackup -s h -l help -d 'Print help (see more with \'--help\')'
