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
  --node-name NODE           DaemonSet mode: only the VMs that run on NODE (status.nodeName, else
                             spec.nodeName; default: $NODE_NAME)
  --advertise-uri URI        DaemonSet mode: how other nodes reach this node's libvirt, for moves
                             (qemu+tls://HOST/system...; default: --connect)
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
const CLUSTER_FLAGS = `  --source kube              the Hypervisor (and its VMs) in a cluster instead\n  --kubeconfig FILE          with --source kube (default: $KUBECONFIG or ~/.kube/config)`;

const GET_FLAGS = `${READ_FLAGS}
  -A, --all-namespaces
  -o, --output FORMAT        wide | yaml | json | name (kind/name lines)
  -l, --selector SELECTOR    labels, as kubectl: a=b, a!=b, a, !a, 'a in (x,y)', 'a notin (x)'; a comma is AND
  -w, --watch                after the list, print a line for each change until Ctrl-C
  --output-watch-events      with -w: an EVENT column (ADDED, MODIFIED, DELETED)`;

const TYPES = 'virtualmachines (vm, vms, wvm), wimaxclients (wxc), shapingpolicies (wsp), ippools (ipp, pools), hypervisors (hv)';

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
  console: {
    summary: "attach to a VM's serial console (as virsh console; Ctrl-] ends it)",
    usage: `wimaxvm console NAME [--connect URI] [--force]\n\nThe guest's serial console through libvirt: what you type goes to the guest (a terminal is put in raw\nmode, so Ctrl-C reaches the guest too), its output comes to stdout. Ctrl-] ends the session; so does the end\nof a piped stdin. One client at a time: --force takes the console over from another (virsh console...).\n\n  --connect URI              libvirt (default: $WIMAXVM_CONNECT, else the URI of the controller running on --dir\n                             or $WIMAXVM_DIR (or --state-dir), else ${DEFAULTS.connect})\n  --force                    take the console over from the client that holds it\n${NAMESPACE}\n${COMMON_FLAGS}`,
  },
  vnc: {
    summary: "where a VNC client connects to a running VM's display (vnc://HOST:PORT)",
    usage: `wimaxvm vnc NAME [--connect URI]\n\nPrints vnc://HOST:PORT from the running domain's live definition (libvirt chooses the port at start).\n\n  --connect URI              libvirt (default: $WIMAXVM_CONNECT, else the URI of the controller running on --dir\n                             or $WIMAXVM_DIR (or --state-dir), else ${DEFAULTS.connect})\n${NAMESPACE}\n${COMMON_FLAGS}`,
  },
  adopt: {
    summary: 'take over libvirt domains made elsewhere: declare each as it is and claim it, without redefining it',
    usage: `wimaxvm adopt DOMAIN... (--dir DIR | --source kube) [flags]\n\nWrites a VirtualMachine that matches each domain (memory, vCPUs, disks as image names, MAC, VLAN from its\nswitch port) and claims the domain through libvirt's metadata call only: its definition is not redefined, and\nthe controller keeps it as it is (power and metadata managed) until the declaration's memory, vCPUs, disks or\nMAC are changed. A domain that cannot be declared as it is (a disk outside --image-dir, two NICs...) is refused\nwith the reason, and nothing about it changes. Runs on the libvirt host.\n\n  --connect URI              libvirt (default: $WIMAXVM_CONNECT, else the URI of the controller running on --dir\n                             or $WIMAXVM_DIR (or --state-dir), else ${DEFAULTS.connect})\n${EDIT_DIR}\n  --source kube              declare in the cluster instead (--kubeconfig FILE, default: $KUBECONFIG, ~/.kube/config)\n  -n, --namespace NS         the namespace (default: from the domain name: NS_NAME, else default)\n  --image-dir DIR            the controller's --image-dir (default: ${DEFAULTS.imageDir})\n  --run-strategy STRATEGY    (default: Always for a running domain, Halted for one that is off)\n  --dry-run                  write and claim nothing; with -o yaml, print the declarations\n  -o, --output yaml\n${COMMON_FLAGS}`,
  },
  initvms: {
    summary: "the old service's initvms: adopt every running domain that no declaration names",
    usage: `wimaxvm initvms (--dir DIR | --source kube) [flags]\n\nwimaxvm adopt for each running domain without wimaxvm's metadata; prints the old service's lines\n(vm30 VLANid  7         mac address='52:52:52:52:52:52'/). Flags as for adopt.\n${COMMON_FLAGS}`,
  },
  start: { summary: 'declare a VM running (runStrategy Always)', usage: `wimaxvm start NAME --dir DIR [--wait DURATION]\n\n${EDIT_DIR}\n${NAMESPACE}\n${STATE_DIR}\n  --wait DURATION            wait until the controller reports it Running (e.g. 60s)\n${COMMON_FLAGS}` },
  stop: { summary: 'declare a VM stopped (runStrategy Halted)', usage: `wimaxvm stop NAME --dir DIR [--wait DURATION]\n\n${EDIT_DIR}\n${NAMESPACE}\n${STATE_DIR}\n  --wait DURATION            wait until the controller reports it Stopped (e.g. 60s)\n${COMMON_FLAGS}` },
  restart: { summary: 'ask for a graceful restart (the wimaxvm.io/restartedAt annotation)', usage: `wimaxvm restart NAME --dir DIR\n\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}` },
  renew: { summary: "start a VM's lease again (the wimaxvm.io/renewedAt annotation)", usage: `wimaxvm renew NAME --dir DIR\n\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}` },
  addclient: { summary: 'bind a WiMAX station (by MAC) to a VM', usage: `wimaxvm addclient MAC VM --dir DIR\n\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}` },
  apply: { summary: 'declare the resources of a file (created, configured or unchanged)', usage: `wimaxvm apply -f FILE --dir DIR\n\n  -f, --filename FILE        a YAML file of resources (several documents allowed)\n${EDIT_DIR}\n${COMMON_FLAGS}` },
  delete: { summary: 'remove a declaration (the controller then removes the VM or path)', usage: `wimaxvm delete TYPE NAME --dir DIR\n\nTYPE: ${TYPES}.\n\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}` },
  drain: {
    summary: 'cordon a hypervisor and move its VMs to others (live when running, cold otherwise), as kubectl drain',
    usage: `wimaxvm drain HOST (--dir DIR | --source kube) [--force] [--timeout DURATION]\n\nSets spec.unschedulable and the wimaxvm.io/drain annotation on the Hypervisor (its file, or the object in the\ncluster); the controller then moves every VM the scheduler placed on HOST to where the scheduler puts it now, and\ndrain prints each move until none is left (exit 0). A VM pinned to HOST by spec.nodeName is refused (exit 1, the\nhost stays cordoned) unless --force, which removes its spec.nodeName. A VM with no room elsewhere is said once and\nwaited for (a host uncordoned or declared meanwhile takes it), as kubectl drain retries a refused eviction. A failed\nmove: exit 1 at once with the reason; the timeout: exit 1 naming what is left and why.\n\n${EDIT_DIR}\n${STATE_DIR}\n${CLUSTER_FLAGS}\n  --force                    also move VMs pinned to HOST (their spec.nodeName is removed)\n  --timeout DURATION         give up after this long (default: 10m)\n${COMMON_FLAGS}`,
  },
  cordon: { summary: 'no new VM is placed on a hypervisor (spec.unschedulable); its VMs stay', usage: `wimaxvm cordon HOST (--dir DIR | --source kube)\n\n${EDIT_DIR}\n${CLUSTER_FLAGS}\n${COMMON_FLAGS}` },
  uncordon: { summary: 'a cordoned or drained hypervisor takes VMs again', usage: `wimaxvm uncordon HOST (--dir DIR | --source kube)\n\n${EDIT_DIR}\n${CLUSTER_FLAGS}\n${COMMON_FLAGS}` },
  pool: {
    summary: 'import a Nimbus network pool file as an IPPool (hostname ip gateway broadcast netmask [MAC] lines)',
    usage: `wimaxvm pool import FILE [--name NAME] --dir DIR\n\nWrites the IPPool into the watched directory (default name: the file's), or prints it with -o yaml\n(for kubectl apply -f -). Every bad line is reported as FILE:LINE; nothing is written then.\n\n  --name NAME                the pool's name (VMs name it in spec.network.ipPool)\n  -o, --output yaml          print the IPPool instead of writing it\n${EDIT_DIR}\n${NAMESPACE}\n${COMMON_FLAGS}`,
  },
  validate: {
    summary: "the controller's own checks of manifest files; exit 1 on any error",
    usage: `wimaxvm validate FILE...\n\nEach file as the controller parses it, and a resource declared in two of the files (the\ncontroller would apply neither) as an error at both places.\n\n${COMMON_FLAGS}`,
  },
  image: {
    summary: 'disk images: import a qcow2 or raw file (checked, with progress), list them and who uses them, remove one',
    usage: `wimaxvm image import FILE [--name NAME] [--image-dir DIR]
  wimaxvm image list [-o wide|yaml|json] [--dir DIR | --source kube]
  wimaxvm image rm NAME... [--dir DIR | --source kube]

import copies FILE into the image directory under NAME (default: its file name): only qcow2 or
raw, checked with qemu-img before and after the copy; a qcow2 whose backing chain leaves the image
directory (an absolute or ../ path, a symlink, a json: or protocol spec) is refused. The image
appears only once whole (a hidden temporary file, then its name); an existing image is never
replaced. Progress goes to stderr: a bar on a terminal, else a line every 10 % or 5 s.
list and rm read which VMs use each image from the declarations: the VMs declared in --dir (or
$WIMAXVM_DIR), or with --source kube the cluster's. rm refuses an image a declared VM uses, or
that another image is built on (its backing file), and names them.

  --image-dir DIR            the controller's --image-dir (default: ${DEFAULTS.imageDir})
  --name NAME                import: the image's name (a plain file name: no "/", no "..", no leading dot)
  -o, --output FORMAT        list: wide | yaml | json
  --dir DIR                  list, rm: the watched directory whose VMs use the images (or $WIMAXVM_DIR)
  --source dir|kube          list, rm: the VMs of the watched directory (default) or of a cluster
  --kubeconfig FILE          with --source kube (default: $KUBECONFIG or ~/.kube/config)
${COMMON_FLAGS}`,
  },
  create: {
    summary: 'declare a new VM from flags, as kubectl create does (cloud-client --run)',
    usage: `wimaxvm create NAME --image IMAGE --memory QUANTITY --vcpus N [flags]

Writes the VirtualMachine's declaration (file mode: a new YAML file in --dir; --source kube: the
object through the API server) and says so; the controller does the rest. A VM of that name
declared already is an error, never overwritten.

  --image IMAGE              a disk: an image of the image directory (repeat for more disks)
  --memory QUANTITY          e.g. 512Mi, 2Gi
  --vcpus N
  --hours H                  a lease: spec.lease.duration H hours (e.g. 2, 0.5)
  --vlan N                   the slice's VLAN (default: allocated)
  --run-strategy STRATEGY    Always (default) | RerunOnFailure | Manual | Halted | Once
  --dry-run[=client]         print what would be declared, declare nothing
  -o, --output FORMAT        yaml | json | name (default: a line saying what was done)
${EDIT_DIR}
  --source dir|kube          declare it in --dir (default) or in a cluster
  --kubeconfig FILE          with --source kube (default: $KUBECONFIG or ~/.kube/config)
  --image-dir DIR            file mode: warn when the image is not there (default: ${DEFAULTS.imageDir})
${NAMESPACE}
${COMMON_FLAGS}`,
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
    `The edit commands (start, stop, restart, renew, addclient, apply, delete) need --dir DIR or ${'$'}WIMAXVM_DIR.`,
    'Exit codes: 0 success; 1 failure (libvirt, a file or the state database said no, another controller',
    'holds the state directory, --wait ran out, invalid input); 2 usage error. Errors are one line;',
    '--log-level debug (or WIMAXVM_DEBUG=1) adds the stack.',
  ].join('\n');
}
