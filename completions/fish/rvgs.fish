complete -c rvgs -s o -l options -d 'Fields to show (comma-separated; +FIELD appends to the defaults; "help" lists them)' -r
complete -c rvgs -l units -d 'Units for sizes: hHbBsSkKmMgGtTpPeErR, optionally with a number' -r
complete -c rvgs -l separator -d 'Separate fields with this string instead of aligning them' -r
complete -c rvgs -l reportformat -d 'basic (aligned columns) or json, in lvm2\'s schema' -r -f -a "basic\t''
json\t''"
complete -c rvgs -l nosuffix -d 'Print sizes without their unit'
complete -c rvgs -l noheadings -d 'Do not print the headings line'
complete -c rvgs -s h -l help -d 'Print help'
complete -c rvgs -s V -l version -d 'Print version'
