// What each command takes, for `wimaxvm help COMMAND` and `wimaxvm COMMAND --help`.
import { DEFAULTS } from '../config.js';

export class UsageError extends Error {}

const RUN_FLAGS = `  --source dir|kube          desired state from a watched directory (default) or a Kubernetes cluster
  --dir DIR                  watched directory (default: $WIMAXVM_DIR, else the bundled examples/)
  --connect URI              libvirt URI (default: ${DEFAULTS.connect})
  --state-dir DIR            state database (status, events, lock) and overlays
                             (default: ${DEFAULTS.stateHome}/BASENAME-HASH of --dir)
  --image-dir DIR            where disk images are looked up (default: ${DEFAULTS.imageDir})
  --overlay-dir DIR          per-VM qcow2 overlays (default: STATE-DIR/overlays; as root with the
                             derived state directory: /var/lib/wimaxvm/overlays/ its name)
  --nic KIND                 user | network:NAME | bridge:NAME | ovs:BRIDGE (default: ${DEFAULTS.nic})
  --uplink PORT              with --nic ovs:BRIDGE: the base-station uplink port on that bridge
  --vlan-range MIN-MAX       slice VLANs handed out (default: 2-4094)
  --listen HOST:PORT|off     the HTTP API: /wimaxvm/ (the old OMF service), /metrics, /healthz, /readyz
                             (default: ${DEFAULTS.listen})
  --api-token-file FILE      bearer token the API's writes need (or WIMAXVM_API_TOKEN); required off loopback
  --workers N                concurrent reconciles (default: ${DEFAULTS.workers})
  --resync DURATION          look at every resource again this often (default: ${DEFAULTS.resync})
  --poll DURATION            look for domains changed by hand this often where libvirt sends no domain
                             events (default: ${DEFAULTS.poll}); with events, every 30 s as a safety net
  --settle DURATION          file mode: a changed file is read once unchanged this long, so a save
                             in several steps or a quick git checkout A→B→A applies only its end (default: ${DEFAULTS.settle})
  --shutdown-timeout DURATION  graceful shutdown before power-off (default: ${DEFAULTS.shutdownTimeout})
  --traffic-interval DURATION|off  read the OVS bridge's traffic counters this often, for /metrics,
                             \`wimaxvm top\` and the console (default: ${DEFAULTS.trafficInterval})
  --traffic-status-interval DURATION  write status.traffic at most this often (default: ${DEFAULTS.trafficStatusInterval})
  --log-level LEVEL          debug | info | warn | error (default: ${DEFAULTS.logLevel})
  --log-format FORMAT        json | text (default: text on a terminal, else json)
  --allow-empty              let a source that reads as empty delete every VM (default: it deletes nothing)
  --adopt-from IDENTITY      take over the domains of a controller gone for good (file://HOST/DIR,
                             kube://CLUSTER/NAME, or legacy for domains without an identity); repeatable

Kubernetes mode (--source kube):
  --kubeconfig FILE          default: in-cluster service account, $KUBECONFIG or ~/.kube/config
  --namespace NS             watch one namespace (default: all)
  --node-name NODE           DaemonSet mode: only VMs with spec.nodeName NODE (default: $NODE_NAME)
  --leader-elect             one active replica, on a coordination.k8s.io Lease
  --lease-namespace NS       default: $POD_NAMESPACE, else wimaxvm-system (never --namespace)
  --lease-name NAME          default: wimaxvm-controller
  --vlan-claim-namespace NS  where all controllers claim VLANs, one Lease each (default: wimaxvm-system)`;

const COMMON_FLAGS = `  --log-level LEVEL          debug | info | warn | error; debug adds the stack to an error
  -h, --help`;

const READ_FLAGS = `  --dir DIR                  the watched directory whose controller to read (default: $WIMAXVM_DIR,
                             else the bundled examples/, which \`npm start\` runs on; reading changes nothing)
  --state-dir DIR            that controller's --state-dir, if it was given one (default: derived from --dir)
  -n, --namespace NS         the namespace (default: default)`;

const EDIT_DIR = `  --dir DIR                  the watched directory to edit (or $WIMAXVM_DIR); required: there is no
                             default, so that a forgotten --dir never edits the bundled examples/`;
const NAMESPACE = '  -n, --namespace NS         the namespace (default: default)';
const STATE_DIR = READ_FLAGS.split('\n')[2];

const GET_FLAGS = `${READ_FLAGS}
  -A, --all-namespaces
  -o, --output FORMAT        wide | yaml | json | name (kind/name lines)
  -l, --selector SELECTOR    labels, as kubectl: a=b, a!=b, a, !a, 'a in (x,y)', 'a notin (x)'; a comma is AND
  -w, --watch                after the list, print a line for each change until Ctrl-C
  --output-watch-events      with -w: an EVENT column (ADDED, MODIFIED, DELETED)`;

const TYPES = 'virtualmachines (vm, vms, wvm), wimaxclients (wxc), shapingpolicies (wsp), hypervisors (hv)';

export const COMMANDS: Record<string, { summary: string; usage: string }> = {
  run: { summary: 'the controller: reconcile a watched directory of YAML files, or a cluster\'s resources, onto libvirt', usage: `wimaxvm run [flags]\n\n${RUN_FLAGS}` },
  get: {
    summary: 'list resources or show one (-o wide|yaml|json|name, -l SELECTOR, -w)',
    usage: `wimaxvm get TYPE [NAME] [flags]\n\nTYPE: ${TYPES}.\nVMs and stations as the controller last stored them; shaping policies (no status) as declared in --dir.\nA STATUS such as Running,InvalidManifest: the declaration in force is the last good one (see describe).\n\n${GET_FLAGS}\n${COMMON_FLAGS}`,
  },
  top: {
    summary: 'live per-station or per-slice traffic, busiest first (like kubectl top / virt-top)',
    usage: `wimaxvm top [stations|slices|vms] [flags]\n\nThe running controller's traffic counters (its HTTP API's /traffic), refreshed in place.\nUP and DOWN are rates over the controller's last sampling interval; totals and DROPS since the station's path was programmed.\n\n  --dir DIR                  the watched directory whose controller to ask (default: $WIMAXVM_DIR, else examples/)\n  --state-dir DIR            or its state directory\n  --server URL               or the controller's API (http://127.0.0.1:5012; Kubernetes: a port-forward)\n  -n, --namespace NS         (default: default)\n  -A, --all-namespaces\n  --interval DURATION        refresh this often (default: 2s)\n  --once                     print one table and exit (for scripts)\n${COMMON_FLAGS}`,
  },
  describe: { summary: 'status, conditions and recent events of one resource', usage: `wimaxvm describe vm|wxc NAME\n\n${READ_FLAGS}\n${COMMON_FLAGS}` },
  vmlist: { summary: "the old service's list: vm30 VLANid  7  mac address='...'/", usage: `wimaxvm vmlist [-A]\n\n${READ_FLAGS}\n  -A, --all-namespaces\n${COMMON_FLAGS}` },
  vmstat: { summary: "a VM's libvirt domain XML (live while running)", usage: `wimaxvm vmstat NAME [--connect URI]\n\n  --connect URI              libvirt URI (default: ${DEFAULTS.connect})\n${NAMESPACE}\n${COMMON_FLAGS}` },
  start: { summary: 'declare a VM running (runStrategy Always)', usage: `wimaxvm start NAME --dir DIR [--wait DURATION]\n\n${EDIT_DIR}\n${NAMESPACE}\n${STATE_DIR}\n  --wait DURATION            wait until the controller reports it Running (e.g. 60s)\n${COMMON_FLAGS}` },
  stop: { summary: 'declare a VM stopped (runStrategy Halted)', usage: `wimaxvm stop NAME --dir DIR [--wait DURATION]\n\n${EDIT_DIR}\n${NAMESPACE}\n${STATE_DIR}\n  --wait DURATION            wait until the controller reports it Stopped (e.g. 60s)\n${COMMON_FLAGS}` },
  restart: { summary: 'ask for a graceful restart (the wimaxvm.io/restartedAt annotation)', usage: `wimaxvm restart NAME --dir DIR\n\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}` },
  addclient: { summary: 'bind a WiMAX station (by MAC) to a VM', usage: `wimaxvm addclient MAC VM --dir DIR\n\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}` },
  apply: { summary: 'declare the resources of a file (created, configured or unchanged)', usage: `wimaxvm apply -f FILE --dir DIR\n\n  -f, --filename FILE        a YAML file of resources (several documents allowed)\n${EDIT_DIR}\n${COMMON_FLAGS}` },
  delete: { summary: 'remove a declaration (the controller then removes the VM or path)', usage: `wimaxvm delete TYPE NAME --dir DIR\n\nTYPE: ${TYPES}.\n\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}` },
  validate: {
    summary: "the controller's own checks of manifest files; exit 1 on any error",
    usage: `wimaxvm validate FILE...\n\nEach file as the controller parses it, and a resource declared in two of the files (the\ncontroller would apply neither) as an error at both places.\n\n${COMMON_FLAGS}`,
  },
  completion: {
    summary: 'a bash or zsh completion script: commands, flags, types and resource names',
    usage: 'wimaxvm completion bash|zsh\n\n  source <(wimaxvm completion bash)      # this shell; or save it to /etc/bash_completion.d/wimaxvm\n  source <(wimaxvm completion zsh)       # after compinit',
  },
  version: { summary: "wimaxvm's version (also wimaxvm --version)", usage: 'wimaxvm version' },
};

export function usage(command?: string): string {
  if (command && COMMANDS[command]) return `${COMMANDS[command]!.summary}\n\nUsage:\n  ${COMMANDS[command]!.usage}`;
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'wimaxvm keeps libvirt virtual machines and WiMAX stations in line with declared resources',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width + 2)}${c.summary}`),
    '',
    "Run 'wimaxvm help COMMAND' or 'wimaxvm COMMAND --help' for a command's flags.",
    `The edit commands (start, stop, restart, addclient, apply, delete) need --dir DIR or ${'$'}WIMAXVM_DIR.`,
    'Exit codes: 0 success; 1 failure (libvirt, a file or the state database said no, another controller',
    'holds the state directory, --wait ran out, invalid input); 2 usage error. Errors are one line;',
    '--log-level debug (or WIMAXVM_DEBUG=1) adds the stack.',
  ].join('\n');
}
