complete -c rpvremove -s f -l force -d 'Accepted for lvm2 compatibility; a PV in a VG is still refused'
complete -c rpvremove -s y -l yes -d 'Answer yes to every prompt'
complete -c rpvremove -s h -l help -d 'Print help'
complete -c rpvremove -s V -l version -d 'Print version'
