complete -c rlvchange -s a -l activate -d 'Activate (y) or deactivate (n)' -r -f -a "y\t''
n\t''
ay\t''"
complete -c rlvchange -l poll -d 'After activation, wait for a pending snapshot merge to finish and drop the merged snapshot (y, the default), or leave it running (n)' -r -f -a "y\t''
n\t''"
complete -c rlvchange -s h -l help -d 'Print help'
complete -c rlvchange -s V -l version -d 'Print version'
