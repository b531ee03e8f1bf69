import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr, type Cidr } from '../net/cidr.ts';
import { EmulatedInstance, type InstanceIdentity, type MetadataOptions } from './instance.ts';
import { InstanceDirectory } from './instanceDirectory.ts';

/** The directory reads only the instance id and the client blocks. */
function instance(instanceId: string, clients: string[]): EmulatedInstance {
  return new EmulatedInstance(
    { instanceId } as InstanceIdentity,
    clients.map((text) => parseCidr(text) as Cidr),
    {} as MetadataOptions,
  );
}

describe('which instance a caller sees', () => {
  it('a caller sees the instance whose block holds its address most specifically', () => {
    const wide = instance('i-0aaaaaaaaaaaaaaa1', ['127.0.0.0/8', '::/0']);
    const narrow = instance('i-0bbbbbbbbbbbbbbb2', ['127.0.0.2/32']);
    const directory = new InstanceDirectory([wide, narrow]);

    assert.equal(directory.forCaller('127.0.0.1'), wide);
    assert.equal(directory.forCaller('127.0.0.2'), narrow);
    assert.equal(directory.forCaller('::ffff:127.0.0.2'), narrow);
    assert.equal(directory.forCaller('::1'), wide);
    assert.equal(directory.forCaller('10.0.0.1'), undefined);
  });

  it('a lone instance with the default blocks is every caller’s, with no address needed', () => {
    const only = instance('i-0aaaaaaaaaaaaaaa1', ['0.0.0.0/0', '::/0']);
    const directory = new InstanceDirectory([only]);

    assert.equal(directory.forEveryCaller(4), only);
    assert.equal(directory.forEveryCaller(6), only);
  });

  it('a lone instance holding one family whole is every caller’s of that family only', () => {
    const directory = new InstanceDirectory([instance('i-0aaaaaaaaaaaaaaa1', ['0.0.0.0/0'])]);

    assert.ok(directory.forEveryCaller(4));
    assert.equal(directory.forEveryCaller(6), undefined);
    assert.equal(directory.forCaller('::1'), undefined);
  });

  it('the address decides when the lone instance holds less than a whole family', () => {
    const directory = new InstanceDirectory([
      instance('i-0aaaaaaaaaaaaaaa1', ['10.0.0.0/8', 'fd00::/8']),
    ]);

    assert.equal(directory.forEveryCaller(4), undefined);
    assert.equal(directory.forEveryCaller(6), undefined);
    assert.equal(directory.forCaller('127.0.0.1'), undefined);
  });

  it('the address decides when there are several instances, even if one holds everything', () => {
    const directory = new InstanceDirectory([
      instance('i-0aaaaaaaaaaaaaaa1', ['0.0.0.0/0', '::/0']),
      instance('i-0bbbbbbbbbbbbbbb2', ['127.0.0.2/32']),
    ]);

    assert.equal(directory.forEveryCaller(4), undefined);
    assert.equal(directory.forEveryCaller(6), undefined);
    assert.equal(directory.forCaller('127.0.0.2')?.instanceId, 'i-0bbbbbbbbbbbbbbb2');
  });
});
