// `wimaxvm console NAME`: the guest's serial console, as `virsh console` gives it (Ctrl-] ends
// it); `wimaxvm vnc NAME`: where a VNC client connects. Both ask libvirt at --connect directly.
import { parseArgs } from 'node:util';
import { DEFAULT_NAMESPACE } from '../api/meta.js';
import { domainNameFor } from '../api/virtual-machine.js';
import { consoleRefusal, type VmRef } from '../console/attachable.js';
import { ConsoleError, type GuestConsoles } from '../console/console-port.js';
import { runConsoleSession, type ConsoleUser, type SessionEnd } from '../console/session.js';
import { hostOfUri, vncTarget } from '../console/vnc-target.js';
import { CONSOLE_OPTIONS, VNC_OPTIONS } from './command-options.js';
import { checkLogLevel } from './common-flags.js';
import { libvirtUriFor } from './libvirt-uri.js';
import { UsageError, usage } from './usage.js';

async function vmRef(command: string, positionals: string[], values: { namespace?: string | undefined; connect?: string | undefined; dir?: string | undefined; 'state-dir'?: string | undefined }): Promise<VmRef> {
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new UsageError(`${command} needs one NAME`);
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  return { namespace, name, domainName: domainNameFor(namespace, name), uri: await libvirtUriFor(values) };
}

async function openConsoles(uri: string): Promise<GuestConsoles> {
  const { LibvirtGuestConsoles } = await import('../adapters/libvirt/guest-consoles.js'); // the native binding only when needed
  return LibvirtGuestConsoles.open(uri);
}

export async function consoleCommand(args: string[], user: ConsoleUser = { input: process.stdin, output: process.stdout }): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONSOLE_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('console') + '\n'), 0);
  checkLogLevel(values['log-level']);
  const vm = await vmRef('console', positionals, values);
  const consoles = await openConsoles(vm.uri);
  try {
    const refusal = consoleRefusal(vm, await consoles.describe(vm.domainName));
    if (refusal) {
      process.stderr.write(`error: ${refusal}\n`);
      return 1;
    }
    const channel = await consoles.open(vm.domainName, { force: values.force ?? false });
    // On stderr, as virsh's banner but apart from the guest's output, which a script reads from stdout.
    process.stderr.write(`Connected to domain ${vm.domainName}\nEscape character is ^] (Ctrl + ])\n`);
    const end = await runConsoleSession(channel, user);
    // A pipe left open by the other side would keep the process alive after the session.
    if (user.input === process.stdin) process.stdin.destroy();
    return reportEnd(end, vm.domainName);
  } finally {
    await consoles.close().catch(() => undefined);
  }
}

/** 0 when the user or the guest ended it; 1 when the stream failed. */
function reportEnd(end: SessionEnd, domainName: string): number {
  switch (end.by) {
    case 'escape': case 'input-ended': case 'signal':
      process.stderr.write('\n');
      return 0;
    case 'guest':
      process.stderr.write(`\nconsole of ${domainName} closed: the domain stopped\n`);
      return 0;
    case 'error':
      if (end.error instanceof ConsoleError && end.error.kind === 'taken-over') {
        process.stderr.write(`\nconsole of ${domainName} closed: ${end.error.message}\n`);
        return 0;
      }
      process.stderr.write(`\nerror: console of ${domainName}: ${end.error.message}\n`);
      return 1;
  }
}

export async function vnc(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: VNC_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('vnc') + '\n'), 0);
  checkLogLevel(values['log-level']);
  const vm = await vmRef('vnc', positionals, values);
  const consoles = await openConsoles(vm.uri);
  try {
    const domain = await consoles.describe(vm.domainName);
    const refusal = consoleRefusal(vm, domain, 'connect to its display');
    if (refusal) {
      process.stderr.write(`error: ${refusal}\n`);
      return 1;
    }
    const remote = hostOfUri(vm.uri);
    const target = vncTarget(domain!.liveXml!, remote);
    if (target.kind === 'none') {
      process.stderr.write(`error: VM ${vm.name} has no VNC display to connect to: ${target.why}\n`);
      return 1;
    }
    process.stdout.write(`${target.url}\n`);
    if (target.loopback && remote && remote !== 'localhost') {
      process.stderr.write(`(listens on ${target.host} of ${remote} only: ssh -L ${target.port}:${target.host}:${target.port} ${remote}, then vnc://localhost:${target.port})\n`);
    } else {
      process.stderr.write(`(display :${target.display}; e.g. vncviewer ${target.host}::${target.port})\n`);
    }
    return 0;
  } finally {
    await consoles.close().catch(() => undefined);
  }
}
