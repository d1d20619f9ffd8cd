complete -c rdmd -l dir -d 'State directory [default: $RLVM_DIR, /var/lib/rlvm for root, ~/.local/state/rlvm otherwise]' -r -F
complete -c rdmd -s f -l foreground -d 'Stay in the foreground (for systemd and other service managers)'
complete -c rdmd -l no-fuse -d 'Do not mount the FUSE mapper directory'
complete -c rdmd -l no-nbd -d 'Do not serve NBD'
complete -c rdmd -l stop -d 'Stop the running daemon of the directory (its devices go); refused while a program holds a device open, unless --force'
complete -c rdmd -l force -d 'With --stop: stop even while devices are open (their openers get I/O errors)'
complete -c rdmd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmd -s V -l version -d 'Print version'
