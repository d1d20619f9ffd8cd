complete -c rvgchange -s a -l activate -d 'Activate (y) or deactivate (n); ay, ey, ly activate, an, en, ln deactivate' -r -f -a "y\t''
n\t''
ay\t''
ey\t''
ly\t''
en\t''
ln\t''
an\t''"
complete -c rvgchange -l addtag -d 'Add a tag to the VG (repeatable)' -r
complete -c rvgchange -l deltag -d 'Delete a tag from the VG (repeatable)' -r
complete -c rvgchange -s x -l resizeable -l resizable -d 'Whether PVs may be added to or removed from the VG' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgchange -s l -l logicalvolume -d 'The most logical volumes the VG may hold (0: no limit)' -r
complete -c rvgchange -s p -l maxphysicalvolumes -d 'The most physical volumes the VG may hold (0: no limit)' -r
complete -c rvgchange -l poll -d 'After activation, wait for a pending snapshot merge to finish and drop the merged snapshot (y, the default), or leave it running (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgchange -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgchange -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgchange -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgchange -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgchange -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgchange -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgchange -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgchange -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgchange -s A -l autobackup -d 'Back up the metadata after a change (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgchange -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgchange -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgchange -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgchange -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgchange -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgchange -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgchange -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgchange -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgchange -l longhelp -d 'Display long help text'
complete -c rvgchange -s f -l force -d 'Override various checks and confirmations; repeat (-ff) to force more'
complete -c rvgchange -s h -l help -d 'Print help (see more with \'--help\')'
