# bash completion for dkron. Install: source this file, or copy it to
# /etc/bash_completion.d/dkron (or ~/.local/share/bash-completion/completions/dkron).
# Job names are completed from the server (DKRON_ADDR / --address).
_dkron_jobs() {
  local addr=()
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ ${COMP_WORDS[i]} == --address ]] && addr=(--address "${COMP_WORDS[i + 1]}")
  done
  dkron "${addr[@]}" jobs list --json 2>/dev/null | grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'
}

_dkron() {
  local cur prev words cword
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  local cmd="" sub=""
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --address | --token) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; elif [[ -z $sub ]]; then sub=${COMP_WORDS[i]}; fi ;;
    esac
  done
  case $prev in
    --address | --token | --schedule | --command | --config | --tag | --metadata | --timezone | --retries | --file | --data-dir | --node-name | --http-addr | --bind-addr | --rpc-port | --join | --nats-url | --limit)
      [[ $prev == --file ]] && COMPREPLY=($(compgen -f -- "$cur"))
      return ;;
    --concurrency) COMPREPLY=($(compgen -W "allow forbid replace" -- "$cur")); return ;;
    --catchup) COMPREPLY=($(compgen -W "none last all" -- "$cur")); return ;;
    --executor) COMPREPLY=($(compgen -W "shell http nats" -- "$cur")); return ;;
    --status) COMPREPLY=($(compgen -W "running success failed" -- "$cur")); return ;;
    --parent) COMPREPLY=($(compgen -W "$(_dkron_jobs)" -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "--address --token --json --help" -- "$cur"))
    return
  fi
  case $cmd in
    "") COMPREPLY=($(compgen -W "agent jobs executions members leader leave version tui completion help" -- "$cur")) ;;
    jobs)
      if [[ -z $sub ]]; then COMPREPLY=($(compgen -W "add list show run delete toggle" -- "$cur"))
      else case $sub in show | run | delete | toggle) COMPREPLY=($(compgen -W "$(_dkron_jobs)" -- "$cur")) ;; esac
      fi ;;
    executions)
      if [[ -z $sub ]]; then COMPREPLY=($(compgen -W "show kill $(_dkron_jobs)" -- "$cur"))
      elif [[ $sub == show ]]; then COMPREPLY=($(compgen -W "$(_dkron_jobs)" -- "$cur"))
      fi ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
  esac
}
complete -F _dkron dkron
