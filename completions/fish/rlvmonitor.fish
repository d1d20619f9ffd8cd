complete -c rlvmonitor -l interval -d 'Seconds between looks; device-mapper events wake the monitor sooner' -r
complete -c rlvmonitor -l config -d 'lvm.conf-style settings on top of the configuration file (repeatable)' -r
complete -c rlvmonitor -l state-file -d 'Where progress per snapshot is kept across restarts (default: the state directory)' -r -F
complete -c rlvmonitor -l once -d 'Look once, report, and exit (for cron and scripts)'
complete -c rlvmonitor -l foreground -d 'Run in the foreground (for a service manager); the default without --once'
complete -c rlvmonitor -l json -d 'Print each event as one JSON line'
complete -c rlvmonitor -s h -l help -d 'Print help'
complete -c rlvmonitor -s V -l version -d 'Print version'
