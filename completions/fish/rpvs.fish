complete -c rpvs -s o -l options -d 'Fields to show (comma-separated; +FIELD appends to the defaults; "help" lists them)' -r
complete -c rpvs -l units -d 'Units for sizes: hHbBsSkKmMgGtTpPeErR, optionally with a number' -r
complete -c rpvs -l separator -d 'Separate fields with this string instead of aligning them' -r
complete -c rpvs -l reportformat -d 'basic (aligned columns) or json, in lvm2\'s schema' -r -f -a "basic\t''
json\t''"
complete -c rpvs -l nosuffix -d 'Print sizes without their unit'
complete -c rpvs -l noheadings -d 'Do not print the headings line'
complete -c rpvs -s h -l help -d 'Print help'
complete -c rpvs -s V -l version -d 'Print version'
