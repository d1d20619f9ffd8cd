complete -c rpvs -s o -l options -d 'Fields to show (comma-separated; the last -o replaces earlier ones, +FIELDS appends, -FIELDS removes; "help" lists them)' -r
complete -c rpvs -s O -l sort -d 'Sort by these fields (comma-separated; -FIELD descending)' -r
complete -c rpvs -s S -l select -d 'Only rows matching this selection (lvm2\'s syntax: lv_size>8m && lv_name=~^s)' -r
complete -c rpvs -l units -d 'Units for sizes: hHbBsSkKmMgGtTpPeErR, optionally with a number' -r
complete -c rpvs -l separator -d 'Separate fields with this string instead of aligning them' -r
complete -c rpvs -l reportformat -d 'basic (aligned columns), json (lvm2\'s schema, every value a string) or json_std (numbers as numbers)' -r -f -a "basic\t''
json\t''
json_std\t''"
complete -c rpvs -l configreport -d 'lvm2\'s report configuration selector (accepted; one report per command here)' -r
complete -c rpvs -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rpvs -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rpvs -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rpvs -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rpvs -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rpvs -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rpvs -l devicesfile -d 'A devices file other than the default' -r
complete -c rpvs -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rpvs -s a -l all -d 'Accepted as lvm2 accepts it (every device with a label is listed)'
complete -c rpvs -l segments -d 'One row per PV segment, with lvm2\'s segment columns'
complete -c rpvs -l nosuffix -d 'Print sizes without their unit'
complete -c rpvs -l noheadings -d 'Do not print the headings line'
complete -c rpvs -l aligned -d 'With --separator: pad the columns too'
complete -c rpvs -l binary -d 'Print flags as 1 and 0 (-1 when unknown) instead of words'
complete -c rpvs -l rows -d 'One line per field instead of one per object'
complete -c rpvs -l nameprefixes -d 'Print each value as LVM2_FIELD=\'value\''
complete -c rpvs -l unquoted -d 'With --nameprefixes: no quotes around values'
complete -c rpvs -l logonly -d 'Print only the command\'s log report (rlvm logs nothing into it: its headings alone)'
complete -c rpvs -l readonly -d 'Read the metadata without locks or repairs, as a read-only snapshot (rlvm\'s reports never write)'
complete -c rpvs -l ignorelockingfailure -d 'Go on when a lock cannot be taken (accepted; reports take shared file locks only)'
complete -c rpvs -l ignoreskippedcluster -d 'Skip clustered VGs instead of failing on them (accepted; rlvm has no clustered VGs)'
complete -c rpvs -l foreign -d 'Report VGs owned by other hosts too (accepted; rlvm has no system IDs)'
complete -c rpvs -l shared -d 'Report shared (lvmlockd) VGs too (accepted; rlvm has none)'
complete -c rpvs -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rpvs -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rpvs -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rpvs -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rpvs -s y -l yes -d 'Answer yes to every prompt'
complete -c rpvs -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rpvs -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rpvs -l version -d 'Display version information (lvm2\'s layout)'
complete -c rpvs -l longhelp -d 'Display long help text'
complete -c rpvs -s h -l help -d 'Print help (see more with \'--help\')'
