complete -c rvgremove -s f -l force -d 'Remove the VG\'s logical volumes too (deactivating them)'
complete -c rvgremove -s y -l yes -d 'Answer yes to every prompt'
complete -c rvgremove -s h -l help -d 'Print help'
complete -c rvgremove -s V -l version -d 'Print version'
