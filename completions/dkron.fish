# fish completion for dkron. Install: copy to ~/.config/fish/completions/dkron.fish
# Job names are completed from the server (DKRON_ADDR / --address).
function __dkron_jobs
    dkron jobs list --json 2>/dev/null | string match -r -a '"name": *"[^"]*"' | string replace -r '"name": *"([^"]*)"' '$1'
end

set -l cmds agent jobs executions members leader leave version tui completion help
complete -c dkron -f
complete -c dkron -l address -r -d 'agent HTTP address'
complete -c dkron -l token -r -d 'API token'
complete -c dkron -l json -d 'print JSON'
complete -c dkron -n "not __fish_seen_subcommand_from $cmds" -a "$cmds"
complete -c dkron -n "__fish_seen_subcommand_from jobs; and not __fish_seen_subcommand_from add list show run delete toggle" -a "add list show run delete toggle"
complete -c dkron -n "__fish_seen_subcommand_from show run delete toggle" -a "(__dkron_jobs)"
complete -c dkron -n "__fish_seen_subcommand_from executions; and not __fish_seen_subcommand_from show kill" -a "show kill (__dkron_jobs)"
complete -c dkron -n "__fish_seen_subcommand_from add" -l schedule -r -d 'schedule'
complete -c dkron -n "__fish_seen_subcommand_from add" -l command -r -d 'command to run'
complete -c dkron -n "__fish_seen_subcommand_from add" -l concurrency -r -a "allow forbid replace"
complete -c dkron -n "__fish_seen_subcommand_from add" -l catchup -r -a "none last all"
complete -c dkron -n "__fish_seen_subcommand_from add" -l executor -r -a "shell http nats"
complete -c dkron -n "__fish_seen_subcommand_from add" -l parent -r -a "(__dkron_jobs)"
complete -c dkron -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
