// An IPPool's status from its spec and the claims: how many addresses it offers, how many VMs
// hold, how many are left, and whether VMs keep addresses it no longer offers (it shrank under
// them: they keep them, and the pool says so). Pure.
import type { IPPool, IPPoolStatus } from '../api/ip-pool.js';
import { setCondition, type Condition } from '../api/meta.js';
import type { IpClaim } from '../ports/ip-claims.js';
import { parseIpv4 } from './ipv4.js';
import { compilePool, rangesContain } from './pool-addresses.js';

/** How many addresses of an OutsidePool message are named before "and N more". */
const NAMED = 5;

export function poolStatus(pool: IPPool, claims: readonly IpClaim[], previous: IPPoolStatus | undefined, now: string): IPPoolStatus {
  const generation = pool.metadata.generation;
  let conditions: Condition[] = previous?.conditions ?? [];
  const set = (type: string, status: Condition['status'], reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status, reason, message, observedGeneration: generation }, now);
  };
  const compiled = compilePool(pool.spec);
  const self = `${pool.metadata.namespace}/${pool.metadata.name}`;
  const mine = claims.filter((c) => c.pool === self);
  if (!compiled.ok) {
    set('Ready', 'False', 'InvalidSpec', compiled.errors.map((e) => e.message).join('; '));
    conditions = conditions.filter((c) => c.type === 'Ready');
    return { observedGeneration: generation, size: 0, allocated: mine.length, free: 0, conditions };
  }
  const { ranges, size } = compiled.pool;
  // Any claim on an offered address takes it, whichever pool (or fixed address) it came through.
  const takenHere = claims.filter((c) => rangesContain(ranges, parseIpv4(c.ip))).length;
  const free = size - takenHere;
  set('Ready', 'True', 'Valid', `${size} addresses offered in ${pool.spec.cidr}`);
  if (free === 0) set('Exhausted', 'True', 'NoFreeAddress', `all ${size} addresses are held; VMs naming this pool wait (Pending) until one is returned`);
  else set('Exhausted', 'False', 'AddressesFree', `${free} of ${size} addresses free`);
  const outside = mine.filter((c) => !rangesContain(ranges, parseIpv4(c.ip))).sort((a, b) => parseIpv4(a.ip) - parseIpv4(b.ip));
  if (outside.length) {
    const named = outside.slice(0, NAMED).map((c) => `${c.ip} (${c.holderKey.split('/').slice(1).join('/')})`).join(', ');
    const more = outside.length > NAMED ? ` and ${outside.length - NAMED} more` : '';
    set('OutsidePool', 'True', 'PoolShrunk', `${outside.length} VM(s) keep addresses this pool no longer offers: ${named}${more}; they are returned when those VMs go`);
  } else {
    conditions = conditions.filter((c) => c.type !== 'OutsidePool');
  }
  return { observedGeneration: generation, size, allocated: mine.length, free, conditions };
}
