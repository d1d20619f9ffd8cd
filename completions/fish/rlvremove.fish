complete -c rlvremove -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvremove -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvremove -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvremove -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvremove -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvremove -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvremove -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvremove -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvremove -s A -l autobackup -d 'Back up the metadata after a change (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvremove -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvremove -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvremove -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvremove -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvremove -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvremove -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvremove -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvremove -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvremove -l longhelp -d 'Display long help text'
complete -c rlvremove -s f -l force -d 'Override various checks and confirmations; repeat (-ff) to force more'
complete -c rlvremove -s h -l help -d 'Print help (see more with \'--help\')'
