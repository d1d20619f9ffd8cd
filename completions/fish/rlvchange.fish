complete -c rlvchange -s a -l activate -d 'Activate (y) or deactivate (n); ay, ey, ly activate, an, en, ln deactivate' -r -f -a "y\t''
n\t''
ay\t''
ey\t''
ly\t''
en\t''
ln\t''
an\t''"
complete -c rlvchange -l addtag -d 'Add a tag to the LV (repeatable)' -r
complete -c rlvchange -l deltag -d 'Delete a tag from the LV (repeatable)' -r
complete -c rlvchange -s p -l permission -d 'Access permission: read-only (r) or read/write (rw); an active LV\'s device follows' -r -f -a "r\t''
rw\t''"
complete -c rlvchange -l poll -d 'After activation, wait for a pending snapshot merge to finish and drop the merged snapshot (y, the default), or leave it running (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvchange -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvchange -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvchange -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvchange -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvchange -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvchange -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvchange -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvchange -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvchange -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvchange -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvchange -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvchange -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvchange -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvchange -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvchange -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvchange -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvchange -l longhelp -d 'Display long help text'
complete -c rlvchange -s h -l help -d 'Print help (see more with \'--help\')'
