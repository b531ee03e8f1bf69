import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListenAddress, unmapIpv4 } from './address.ts';
import { cidrContains, parseCidr, type Cidr } from './cidr.ts';

const cidr = (text: string): Cidr => parseCidr(text) as Cidr;

describe('CIDR blocks', () => {
  it('match IPv4 addresses inside them and no others', () => {
    assert.equal(cidrContains(cidr('10.0.0.0/8'), '10.255.1.2'), true);
    assert.equal(cidrContains(cidr('10.0.0.0/8'), '11.0.0.1'), false);
    assert.equal(cidrContains(cidr('0.0.0.0/0'), '203.0.113.9'), true);
    assert.equal(cidrContains(cidr('127.0.0.2/32'), '127.0.0.2'), true);
    assert.equal(cidrContains(cidr('127.0.0.2/32'), '127.0.0.3'), false);
  });

  it('match IPv4 peers of dual-stack sockets, which Node reports as ::ffff:a.b.c.d', () => {
    assert.equal(cidrContains(cidr('127.0.0.0/8'), '::ffff:127.0.0.1'), true);
  });

  it('match IPv6 addresses, compressed or not', () => {
    assert.equal(cidrContains(cidr('fd00:ec2::/32'), 'fd00:ec2::254'), true);
    assert.equal(cidrContains(cidr('fd00:ec2::/32'), 'fd00:ec3::1'), false);
    assert.equal(cidrContains(cidr('::/0'), '::1'), true);
    assert.equal(
      cidrContains(cidr('2001:db8::/64'), '2001:0db8:0000:0000:0000:0000:0000:0001'),
      true,
    );
  });

  it('never match across families', () => {
    assert.equal(cidrContains(cidr('0.0.0.0/0'), '::1'), false);
    assert.equal(cidrContains(cidr('::/0'), '127.0.0.1'), false);
  });

  it('are refused with a reason when malformed', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      'fd00::/129',
      'abc',
      '10.0.0.0/8/1',
      '10.0.0.0/x',
    ]) {
      assert.equal(typeof parseCidr(bad), 'string', bad);
    }
  });
});

describe('listen addresses', () => {
  it('parse HOST:PORT and [IPv6]:PORT', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:1338'), {
      host: '127.0.0.1',
      port: 1338,
      family: 4,
    });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0, family: 6 });
    assert.deepEqual(parseListenAddress('[fd00:ec2::254]:80'), {
      host: 'fd00:ec2::254',
      port: 80,
      family: 6,
    });
  });

  it('name what is wrong', () => {
    assert.match(parseListenAddress('localhost:80') as string, /not an IP address/);
    assert.match(parseListenAddress('127.0.0.1:70000') as string, /above 65535/);
    assert.match(parseListenAddress('127.0.0.1') as string, /not HOST:PORT/);
    assert.match(parseListenAddress('::1:80') as string, /not HOST:PORT|brackets/);
  });

  it('unmap IPv4-mapped IPv6 peers only', () => {
    assert.equal(unmapIpv4('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(unmapIpv4('::1'), '::1');
  });
});
