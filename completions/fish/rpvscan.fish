complete -c rpvscan -l add -d 'Register these image files, which must carry an LVM2 label, then list' -r -F
complete -c rpvscan -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rpvscan -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rpvscan -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rpvscan -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rpvscan -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rpvscan -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rpvscan -l devicesfile -d 'A devices file other than the default' -r
complete -c rpvscan -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rpvscan -s s -l short -d 'Only the device names'
complete -c rpvscan -s n -l novolumegroup -d 'Only PVs that belong to no VG'
complete -c rpvscan -s e -l exported -d 'Only PVs of exported VGs (not with -n)'
complete -c rpvscan -s u -l uuid -d 'Show each PV\'s UUID too'
complete -c rpvscan -l cache -d 'Say which PVs are online (in a VG) as lvm2\'s PV cache records them; rlvm keeps no cache, so nothing is recorded'
complete -c rpvscan -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rpvscan -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rpvscan -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rpvscan -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rpvscan -s y -l yes -d 'Answer yes to every prompt'
complete -c rpvscan -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rpvscan -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rpvscan -l version -d 'Display version information (lvm2\'s layout)'
complete -c rpvscan -l longhelp -d 'Display long help text'
complete -c rpvscan -s h -l help -d 'Print help (see more with \'--help\')'
