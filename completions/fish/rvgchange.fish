complete -c rvgchange -s a -l activate -d 'Activate (y) or deactivate (n)' -r -f -a "y\t''
n\t''
ay\t''"
complete -c rvgchange -l poll -d 'After activation, wait for a pending snapshot merge to finish and drop the merged snapshot (y, the default), or leave it running (n)' -r -f -a "y\t''
n\t''"
complete -c rvgchange -s h -l help -d 'Print help'
complete -c rvgchange -s V -l version -d 'Print version'
