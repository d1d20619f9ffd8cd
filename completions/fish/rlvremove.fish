complete -c rlvremove -s f -l force -d 'Remove an origin together with its snapshots, without asking'
complete -c rlvremove -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvremove -s h -l help -d 'Print help'
complete -c rlvremove -s V -l version -d 'Print version'
