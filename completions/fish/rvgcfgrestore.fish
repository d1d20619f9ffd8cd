complete -c rvgcfgrestore -s f -l file -d 'The metadata file to restore (default: the VG\'s backup file)' -r -F
complete -c rvgcfgrestore -s M -l metadatatype -d 'Metadata type (lvm2 has only lvm2)' -r -f -a "lvm2\t''
2\t''"
complete -c rvgcfgrestore -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgcfgrestore -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgcfgrestore -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgcfgrestore -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgcfgrestore -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgcfgrestore -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgcfgrestore -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgcfgrestore -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgcfgrestore -s l -l list -d 'List the VG\'s archive and backup files (or FILE) instead of restoring'
complete -c rvgcfgrestore -l force -d 'Restore even when LVs of the VG are active'
complete -c rvgcfgrestore -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgcfgrestore -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgcfgrestore -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgcfgrestore -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgcfgrestore -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgcfgrestore -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgcfgrestore -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgcfgrestore -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgcfgrestore -l longhelp -d 'Display long help text'
complete -c rvgcfgrestore -s h -l help -d 'Print help (see more with \'--help\')'
