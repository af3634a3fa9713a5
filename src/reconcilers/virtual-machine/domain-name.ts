// How long a libvirt domain name may be. Kubernetes allows names of 253 characters (and a
// namespace of 63 before them, for domains outside "default"), but libvirt's QEMU driver keeps
// each definition in /etc/libvirt/qemu/NAME.xml, written as NAME.xml.new first: one file name,
// which the file system caps at 255 bytes. Checked on libvirt 9.0: 247 defines, 248 fails with
// "File name too long".
export const MAX_DOMAIN_NAME_BYTES = 247;

/** Why libvirt cannot hold this domain name; undefined when it can. */
export function domainNameProblem(domainName: string): string | undefined {
  const bytes = Buffer.byteLength(domainName);
  if (bytes <= MAX_DOMAIN_NAME_BYTES) return undefined;
  return `the libvirt domain name ${domainName.slice(0, 40)}... is ${bytes} characters; libvirt keeps a definition in a file named after its domain, `
    + `which allows at most ${MAX_DOMAIN_NAME_BYTES} (the namespace and "_" count too outside "default"): choose a shorter name`;
}
