complete -c rlvconvert -s i -l interval -d 'Seconds between progress reports' -r
complete -c rlvconvert -l merge -d 'Merge the snapshot into its origin (the only conversion rlvm does)'
complete -c rlvconvert -s b -l background -d 'Start the merge and return without waiting for it'
complete -c rlvconvert -s h -l help -d 'Print help'
complete -c rlvconvert -s V -l version -d 'Print version'
