complete -c rcow -s h -l help -d 'Print help'
complete -c rcow -s V -l version -d 'Print version'
