complete -c rvgdisplay -s o -l options -d 'Fields to show (comma-separated; the last -o replaces earlier ones, +FIELDS appends, -FIELDS removes; "help" lists them)' -r
complete -c rvgdisplay -s O -l sort -d 'Sort by these fields (comma-separated; -FIELD descending)' -r
complete -c rvgdisplay -s S -l select -d 'Only rows matching this selection (lvm2\'s syntax: lv_size>8m && lv_name=~^s)' -r
complete -c rvgdisplay -l units -d 'Units for sizes: hHbBsSkKmMgGtTpPeErR, optionally with a number' -r
complete -c rvgdisplay -l separator -d 'Separate fields with this string instead of aligning them' -r
complete -c rvgdisplay -l reportformat -d 'basic (aligned columns), json (lvm2\'s schema, every value a string) or json_std (numbers as numbers)' -r -f -a "basic\t''
json\t''
json_std\t''"
complete -c rvgdisplay -l configreport -d 'lvm2\'s report configuration selector (accepted; one report per command here)' -r
complete -c rvgdisplay -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rvgdisplay -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rvgdisplay -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rvgdisplay -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rvgdisplay -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rvgdisplay -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rvgdisplay -l devicesfile -d 'A devices file other than the default' -r
complete -c rvgdisplay -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rvgdisplay -s A -l activevolumegroups -d 'Only VGs with active LVs'
complete -c rvgdisplay -s c -l colon -d 'One colon-separated line per VG'
complete -c rvgdisplay -s C -l columns -d 'The vgs report instead (takes the report options)'
complete -c rvgdisplay -s s -l short -d 'One short line per VG'
complete -c rvgdisplay -l nosuffix -d 'Print sizes without their unit'
complete -c rvgdisplay -l noheadings -d 'Do not print the headings line'
complete -c rvgdisplay -l aligned -d 'With --separator: pad the columns too'
complete -c rvgdisplay -l binary -d 'Print flags as 1 and 0 (-1 when unknown) instead of words'
complete -c rvgdisplay -l rows -d 'One line per field instead of one per object'
complete -c rvgdisplay -l nameprefixes -d 'Print each value as LVM2_FIELD=\'value\''
complete -c rvgdisplay -l unquoted -d 'With --nameprefixes: no quotes around values'
complete -c rvgdisplay -l logonly -d 'Print only the command\'s log report (rlvm logs nothing into it: its headings alone)'
complete -c rvgdisplay -l readonly -d 'Read the metadata without locks or repairs, as a read-only snapshot (rlvm\'s reports never write)'
complete -c rvgdisplay -l ignorelockingfailure -d 'Go on when a lock cannot be taken (accepted; reports take shared file locks only)'
complete -c rvgdisplay -l ignoreskippedcluster -d 'Skip clustered VGs instead of failing on them (accepted; rlvm has no clustered VGs)'
complete -c rvgdisplay -l foreign -d 'Report VGs owned by other hosts too (accepted; rlvm has no system IDs)'
complete -c rvgdisplay -l shared -d 'Report shared (lvmlockd) VGs too (accepted; rlvm has none)'
complete -c rvgdisplay -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rvgdisplay -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rvgdisplay -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rvgdisplay -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rvgdisplay -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgdisplay -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rvgdisplay -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rvgdisplay -l version -d 'Display version information (lvm2\'s layout)'
complete -c rvgdisplay -l longhelp -d 'Display long help text'
complete -c rvgdisplay -s h -l help -d 'Print help (see more with \'--help\')'
