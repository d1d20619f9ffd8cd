complete -c rvgextend -l dataalignment -d 'Align the start of the data area to this size (default 1 MiB)' -r
complete -c rvgextend -l metadatasize -d 'Size of the metadata area' -r
complete -c rvgextend -l pvmetadatacopies -l metadatacopies -d 'Metadata areas on the PV: 0, 1 (default) or 2 (one more at the end of the device)' -r
complete -c rvgextend -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgextend -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgextend -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgextend -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgextend -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgextend -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgextend -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgextend -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgextend -s f -l force -d 'Overwrite an existing signature on a device being initialised (-ff: more)'
complete -c rvgextend -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgextend -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgextend -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgextend -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgextend -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgextend -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgextend -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgextend -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgextend -l longhelp -d 'Display long help text'
complete -c rvgextend -s h -l help -d 'Print help (see more with \'--help\')'
