complete -c rpvchange -s x -l allocatable -d 'Whether extents may be allocated on the PV' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rpvchange -l addtag -d 'Add a tag (repeatable)' -r
complete -c rpvchange -l deltag -d 'Delete a tag (repeatable)' -r
complete -c rpvchange -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rpvchange -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rpvchange -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rpvchange -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rpvchange -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rpvchange -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rpvchange -l devicesfile -d 'A devices file other than the default' -r
complete -c rpvchange -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rpvchange -s A -l autobackup -d 'Back up the metadata after a change (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rpvchange -s a -l all -d 'Change every PV in a volume group'
complete -c rpvchange -s u -l uuid -d 'Give the PV a new random UUID'
complete -c rpvchange -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rpvchange -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rpvchange -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rpvchange -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rpvchange -s y -l yes -d 'Answer yes to every prompt'
complete -c rpvchange -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rpvchange -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rpvchange -l version -d 'Display version information (lvm2\'s layout)'
complete -c rpvchange -l longhelp -d 'Display long help text'
complete -c rpvchange -s f -l force -d 'Override various checks and confirmations; repeat (-ff) to force more'
complete -c rpvchange -s h -l help -d 'Print help (see more with \'--help\')'
