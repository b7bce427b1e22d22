import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { createCA, issueCertificate } from './cert.js';
import { generatePrivateKey, publicKeyOf } from './keys.js';
import { ipBytes, namedBits, oid, subjectAltNames, time, unsignedInteger } from './der.js';
import { certificateSubject, certificateSubjectKeyId } from './der-reader.js';

// the encodings are checked against @peculiar/x509 (a general ASN.1 implementation) on random inputs
describe('DER encodings of certificate fields', () => {
  it('named bits (KeyUsage) as @peculiar/x509 encodes them, for every set of the nine bits', () => {
    for (let flags = 0; flags < 1 << 9; flags++) {
      const bits = [...Array(9).keys()].filter((b) => flags & (1 << b));
      // @peculiar numbers flags from the least significant bit: flag 1 << b is KeyUsage bit b
      const theirs = Buffer.from(new x509.KeyUsagesExtension(flags as x509.KeyUsageFlags).value);
      assert.deepEqual(namedBits(bits), theirs, `bits ${bits.join(',')}`);
    }
  });

  // (IPv6 with an IPv4 tail is left out: @peculiar/x509 gets those bytes wrong; the next test checks ours)
  it('subject alternative names (DNS names, IPv4 and IPv6 addresses) as @peculiar/x509 encodes them', () => {
    const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,2}$/);
    fc.assert(
      fc.property(fc.array(host, { maxLength: 3 }), fc.array(fc.oneof(fc.ipV4(), fc.ipV6().filter((ip) => !ip.includes('.'))), { maxLength: 4 }), (dns, ips) => {
        const ours = subjectAltNames(dns, ips);
        if (dns.length + ips.length === 0) return ours === undefined;
        const names: x509.JsonGeneralName[] = [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))];
        assert.deepEqual(ours, Buffer.from(new x509.SubjectAlternativeNameExtension(names).value));
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('IPv6 forms: compressed, full and with an IPv4 tail give the same 16 bytes', () => {
    assert.equal(ipBytes('::1').toString('hex'), '00000000000000000000000000000001');
    assert.equal(ipBytes('fd00:0:0:0:0:0:0:5').toString('hex'), 'fd000000000000000000000000000005');
    assert.equal(ipBytes('fd00::5').toString('hex'), 'fd000000000000000000000000000005');
    assert.equal(ipBytes('::ffff:10.5.0.2').toString('hex'), '00000000000000000000ffff0a050002');
    assert.equal(ipBytes('10.5.0.2').toString('hex'), '0a050002');
    assert.throws(() => ipBytes('10.5.0'), /not an IP address/);
  });

  it('object identifiers, integers and times', () => {
    assert.equal(oid('2.5.29.17').toString('hex'), '0603551d11');
    assert.equal(oid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
    assert.throws(() => oid('x.1'), /not an object identifier/);
    assert.equal(unsignedInteger(Buffer.from('80', 'hex')).toString('hex'), '02020080');
    assert.equal(unsignedInteger(Buffer.from('00007f', 'hex')).toString('hex'), '02017f');
    assert.equal(unsignedInteger(Buffer.from('0080', 'hex')).toString('hex'), '02020080');
    assert.equal(time(new Date('2049-12-31T23:59:59.900Z')).toString('latin1'), '\x17\x0d491231235959Z');
    assert.equal(time(new Date('2050-01-01T00:00:00Z')).toString('latin1'), '\x18\x0f20500101000000Z');
  });

  it("reads a certificate's subject as the bytes it holds", async () => {
    for (const alg of ['ed25519', 'ecdsa'] as const) {
      const ca = await createCA(alg, { organization: ['talos', 'second org'], commonName: 'a CA' });
      assert.deepEqual(certificateSubject(ca.cert.raw), Buffer.from(new x509.X509Certificate(ca.cert.raw).subjectName.toArrayBuffer()));
    }
    assert.throws(() => certificateSubject(Buffer.from('3003020101', 'hex')), /PKI|certificate|DER/i);
  });

  it("reads a certificate's subject key identifier as @peculiar/x509 does", async () => {
    for (const alg of ['ed25519', 'ecdsa'] as const) {
      const ca = await createCA(alg, { organization: ['talos'] });
      const theirs = new x509.X509Certificate(ca.cert.raw).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
      assert.equal(certificateSubjectKeyId(ca.cert.raw)?.toString('hex'), theirs);
      // a certificate issued by it carries no subject key identifier
      const leaf = await issueCertificate(ca, publicKeyOf(await generatePrivateKey('ed25519')), { subject: { commonName: 'leaf' } });
      assert.equal(certificateSubjectKeyId(leaf.raw), undefined);
    }
  });
});
