complete -c rlvrename -s h -l help -d 'Print help'
complete -c rlvrename -s V -l version -d 'Print version'
