complete -c rlvs -l watch -d 'Redraw the report every SECONDS until interrupted (on a terminal the screen is cleared between reports, elsewhere a blank line separates them)' -r
complete -c rlvs -s o -l options -d 'Fields to show (comma-separated; +FIELD appends to the defaults; "help" lists them)' -r
complete -c rlvs -l units -d 'Units for sizes: hHbBsSkKmMgGtTpPeErR, optionally with a number' -r
complete -c rlvs -l separator -d 'Separate fields with this string instead of aligning them' -r
complete -c rlvs -l reportformat -d 'basic (aligned columns) or json, in lvm2\'s schema' -r -f -a "basic\t''
json\t''"
complete -c rlvs -s a -l all -d 'Show hidden LVs too (in brackets), as lvm2 does'
complete -c rlvs -l nosuffix -d 'Print sizes without their unit'
complete -c rlvs -l noheadings -d 'Do not print the headings line'
complete -c rlvs -s h -l help -d 'Print help'
complete -c rlvs -s V -l version -d 'Print version'
