import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './command.js';
import { dummyInterfaceAddresses } from './dummy_interface.js';
import { canUseNamespaces } from './privileges.js';

const support = await canUseNamespaces();
const name = `kd${randomBytes(4).toString('hex')}`;
const holder = dummyInterfaceAddresses(name);

async function addresses(): Promise<string[]> {
  const links = JSON.parse(await run(['ip', '-j', '-4', 'addr', 'show', 'dev', name])) as { addr_info: { local: string }[] }[];
  return links.flatMap((link) => link.addr_info.map((address) => address.local)).sort();
}

describe.skipIf(!support.ok)('dummyInterfaceAddresses', () => {
  afterAll(() => holder.remove());

  it('creates the interface, then holds exactly the addresses asked for; remove deletes it', async () => {
    await holder.ensure(['10.96.250.1', '10.96.250.2']);
    expect(await addresses()).toEqual(['10.96.250.1', '10.96.250.2']);
    await holder.ensure(['10.96.250.2', '10.96.250.3']);
    expect(await addresses()).toEqual(['10.96.250.2', '10.96.250.3']);
    // Local now: the node reaches them without any route of its own.
    expect(await run(['ip', 'route', 'get', '10.96.250.3'])).toMatch(/^local 10\.96\.250\.3 dev lo/);
    await holder.ensure([]);
    expect(await addresses()).toEqual([]);
    await expect(holder.ensure(['10.96.250.300'])).rejects.toThrow('invalid IPv4 address');
    await holder.remove();
    await holder.remove(); // gone already: no error
    await expect(run(['ip', 'link', 'show', name])).rejects.toThrow(/does not exist/);
  });
});
