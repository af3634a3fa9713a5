// The scripts `wimaxvm completion bash|zsh` prints. They hold no knowledge of their own: each
// asks `wimaxvm __complete` (completion.ts) with the words typed so far.

export const BASH_SCRIPT = `# bash completion for wimaxvm. Load it in the current shell with
#   source <(wimaxvm completion bash)
# or for every shell: wimaxvm completion bash > /etc/bash_completion.d/wimaxvm
_wimaxvm() {
    local cur="\${COMP_WORDS[COMP_CWORD]}"
    local IFS=$'\\n'
    local -a found
    found=($("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    case "\${found[0]}" in
        :files) COMPREPLY=($(compgen -f -- "$cur")) ;;
        :dirs) COMPREPLY=($(compgen -d -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "\${found[*]}" -- "$cur")) ;;
    esac
}
complete -o filenames -F _wimaxvm wimaxvm
`;

export const ZSH_SCRIPT = `#compdef wimaxvm
# zsh completion for wimaxvm. Load it in the current shell (after compinit) with
#   source <(wimaxvm completion zsh)
# or for every shell: wimaxvm completion zsh > "\${fpath[1]}/_wimaxvm"
_wimaxvm() {
    local -a found
    found=("\${(@f)$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case "\${found[1]}" in
        :files) _files ;;
        :dirs) _files -/ ;;
        *) (( \${#found} )) && [[ -n "\${found[1]}" ]] && compadd -a found ;;
    esac
}
if [ "$funcstack[1]" = "_wimaxvm" ]; then
    _wimaxvm "$@"
else
    compdef _wimaxvm wimaxvm
fi
`;
