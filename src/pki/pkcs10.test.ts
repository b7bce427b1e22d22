import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createPublicKey, sign, webcrypto } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { createCA, keyUsageBits, subjectName } from './cert.js';
import { createCSR, parseCSR, signCSR } from './csr.js';
import * as der from './der.js';
import { DERReader } from './der-reader.js';
import { PKIError } from './errors.js';
import { type KeyAlgorithm, type PrivateKey, generatePrivateKey, signingAlgorithm, toCryptoKeyPair } from './keys.js';
import { decodeCSR, encodeCSR } from './pkcs10.js';
import { decodePEM } from './pem.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithms: KeyAlgorithm[] = ['ed25519', 'ecdsa', 'rsa'];
const keys = new Map<KeyAlgorithm, { key: PrivateKey; pair: webcrypto.CryptoKeyPair }>();

before(async () => {
  for (const alg of algorithms) {
    const key = await generatePrivateKey(alg, { rsaBits: 2048 });
    keys.set(alg, { key, pair: await toCryptoKeyPair(key) });
  }
});

/** A CSR made by @peculiar/x509 (a general ASN.1 implementation), as DER. */
async function theirCSR(alg: KeyAlgorithm, name: x509.Name | string, extensions: x509.Extension[]): Promise<Buffer> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    keys: keys.get(alg)!.pair,
    signingAlgorithm: signingAlgorithm(alg) as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['signingAlgorithm'],
    extensions,
  });
  return Buffer.from(csr.rawData);
}

const extensionOf = <T extends x509.Extension>(csr: x509.Pkcs10CertificateRequest, type: new (...args: never[]) => T) => csr.extensions.find((e): e is T => e instanceof type);

const isCSRError = (e: unknown) => e instanceof PKIError && e.code === 'BRONZE_PKI_CSR';

// random inputs: names with several string types and multi-valued RDNs, SANs, extended and plain key usages
const printable = fc.stringMatching(/^[A-Za-z0-9 '()+,\-./:=?]{1,12}$/);
const attributeValue = fc.oneof(
  printable.map((v) => ({ printableString: v })),
  fc.string({ minLength: 1, maxLength: 12 }).map((v) => ({ utf8String: v })),
  fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }).map((v) => ({ utf8String: v })),
  fc.stringMatching(/^[ -~]{1,12}$/).map((v) => ({ ia5String: v })),
  fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme-ascii' }).map((v) => ({ bmpString: v })),
);
const attributeType = fc.constantFrom('2.5.4.3', '2.5.4.10', '2.5.4.11', '2.5.4.7');
const rdn = fc.dictionary(attributeType, fc.array(attributeValue, { minLength: 1, maxLength: 1 }), { minKeys: 1, maxKeys: 2 });
const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,2}$/);
const ip = fc.oneof(fc.ipV4(), fc.ipV6().filter((a) => !a.includes('.')));
const anyOID = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat(), { maxLength: 5 })).map(([a, b, rest]) => [a, b, ...rest].join('.'));
const ekus = fc.array(fc.oneof(fc.constantFrom(...Object.values(x509.ExtendedKeyUsage)), anyOID), { maxLength: 4 });
const request = fc.record({
  alg: fc.constantFrom(...algorithms),
  rdns: fc.array(rdn, { maxLength: 4 }),
  dns: fc.array(host, { maxLength: 3 }),
  ips: fc.array(ip, { maxLength: 3 }),
  ekus: fc.option(ekus),
  keyUsage: fc.option(fc.integer({ min: 1, max: 511 })),
});

describe('certificate requests decoded (differential against @peculiar/x509)', () => {
  it('reads subject, key, SANs, usages and the signature as @peculiar/x509 does, on random requests', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const extensions: x509.Extension[] = [];
        if (r.dns.length + r.ips.length) extensions.push(new x509.SubjectAlternativeNameExtension([...r.dns.map((value) => ({ type: 'dns' as const, value })), ...r.ips.map((value) => ({ type: 'ip' as const, value }))]));
        if (r.ekus) extensions.push(new x509.ExtendedKeyUsageExtension(r.ekus));
        if (r.keyUsage) extensions.push(new x509.KeyUsagesExtension(r.keyUsage, true));
        const bytes = await theirCSR(r.alg, new x509.Name(r.rdns), extensions);
        const theirs = new x509.Pkcs10CertificateRequest(bytes);
        const ours = decodeCSR(bytes);
        assert.equal(ours.commonName, theirs.subjectName.getField('CN')[0]);
        assert.deepEqual(ours.organization, theirs.subjectName.getField('O'));
        assert.deepEqual(ours.publicKeyInfo, Buffer.from(theirs.publicKey.rawData));
        const san = extensionOf(theirs, x509.SubjectAlternativeNameExtension);
        assert.deepEqual(ours.dnsNames, san?.names.items.filter((n) => n.type === 'dns').map((n) => n.value) ?? []);
        assert.deepEqual(ours.ipAddresses, san?.names.items.filter((n) => n.type === 'ip').map((n) => n.value) ?? []);
        assert.deepEqual(ours.extKeyUsage, [...(extensionOf(theirs, x509.ExtendedKeyUsageExtension)?.usages ?? [])].map(String));
        const flags = extensionOf(theirs, x509.KeyUsagesExtension)?.usages ?? 0;
        assert.deepEqual(ours.keyUsage.map((u) => keyUsageBits[u]), [...Array(9).keys()].filter((b) => flags & (1 << b)));
        assert.equal(ours.signatureValid, await theirs.verify());
        assert.equal(ours.signatureValid, true);
        // a changed signature byte no longer verifies, for either
        const bad = Buffer.from(bytes);
        bad[bad.length - 3]! ^= 0x01;
        assert.equal(decodeCSR(bad).signatureValid, false);
        assert.equal(await new x509.Pkcs10CertificateRequest(bad).verify().catch(() => false), false);
        return true;
      }),
      { numRuns: 150 },
    );
  });

  it('names key usages as RFC 5280 numbers their bits', async () => {
    const bytes = await theirCSR('ed25519', 'CN=ku', [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.decipherOnly)]);
    assert.deepEqual(decodeCSR(bytes).keyUsage, ['digitalSignature', 'keyEncipherment', 'decipherOnly']);
  });

  it('formats addresses as @peculiar/x509 does, compressing the longest run of zero groups', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.constantFrom(Buffer.alloc(16), Buffer.from('00010000000100000000000000000001', 'hex'))), (b) => {
        const ext = new x509.SubjectAlternativeNameExtension(der.seq(der.oid('2.5.29.17'), der.octetString(der.seq(der.tlv(0x87, b)))));
        assert.deepEqual(der.ipBytes(der.ipText(b)), Buffer.from(b));
        assert.equal(der.ipText(b), ext.names.items[0]!.value);
        return true;
      }),
      { numRuns: 500 },
    );
  });
});

describe('certificate requests encoded', () => {
  it('are the bytes @peculiar/x509 makes for the same key, subject and SANs (Ed25519 and RSA sign deterministically)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<KeyAlgorithm>('ed25519', 'rsa', 'ecdsa'),
        fc.option(printable),
        fc.array(printable, { maxLength: 2 }),
        fc.array(host, { maxLength: 2 }),
        fc.array(ip, { maxLength: 2 }),
        async (alg, cn, orgs, dns, ips) => {
          const subject = { commonName: cn ?? undefined, organization: orgs };
          const ours = decodePEM(await createCSR(keys.get(alg)!.key, { subject, dnsNames: dns, ipAddresses: ips }))[0]!.der;
          const names = [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))];
          const theirs = await theirCSR(alg, subjectName(subject), names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : []);
          if (alg === 'ecdsa') {
            // ECDSA signatures are randomized: the signed part must match, and ours must verify
            const info = (b: Buffer) => b.subarray(b[1]! & 0x80 ? 2 + (b[1]! & 0x7f) : 2);
            assert.deepEqual(info(ours).subarray(0, 40), info(theirs).subarray(0, 40));
            assert.equal(await new x509.Pkcs10CertificateRequest(ours).verify(), true);
          } else {
            assert.deepEqual(ours, theirs);
          }
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('malformed certificate requests', () => {
  let good: Buffer;
  before(async () => {
    good = decodePEM(await createCSR(keys.get('ecdsa')!.key, { subject: { commonName: 'node' }, dnsNames: ['node'], ipAddresses: ['10.0.0.2'] }))[0]!.der;
  });

  it('every truncation fails with a CSR error naming the place', () => {
    for (let n = 0; n < good.length; n++) assert.throws(() => decodeCSR(good.subarray(0, n)), isCSRError, `cut at ${n}`);
    assert.throws(() => decodeCSR(good.subarray(0, 40)), /truncated DER at byte 0/);
  });

  it('trailing bytes, wrong tags, indefinite lengths and a wrong version fail with a CSR error', () => {
    assert.throws(() => decodeCSR(Buffer.concat([good, Buffer.from([0])])), /1 bytes after the certificate request/);
    const retag = (at: number, tag: number) => Buffer.from(good).fill(tag, at, at + 1);
    assert.throws(() => decodeCSR(retag(0, 0x31)), /expected sequence at byte 0, found set/);
    const info = new DERReader(good).element(0).contents;
    assert.throws(() => decodeCSR(retag(info, 0x04)), (e) => isCSRError(e) && /certificationRequestInfo/.test((e as Error).message));
    assert.throws(() => decodeCSR(Buffer.from('3080020100', 'hex')), /indefinite length/);
    assert.throws(() => decodeCSR(Buffer.from('3f00', 'hex')), /multi-byte tag/);
    const key = keys.get('ed25519')!.key;
    const v2 = der.seq(der.seq(der.tlv(der.TAG.integer, Buffer.from([1])), der.seq(), createPublicKey(key.key).export({ type: 'spki', format: 'der' }), der.tlv(0xa0)), der.seq(der.oid('1.3.101.112')), der.bitString(Buffer.alloc(64)));
    assert.throws(() => decodeCSR(v2), /unsupported certificate request version 2/);
  });

  it('a signature that does not verify, or an algorithm that does not fit the key, is reported, and signCSR refuses it', async () => {
    const ca = await createCA('ed25519', { organization: ['talos'] });
    const key = keys.get('ecdsa')!.key;
    const csr = encodeCSR(key, der.seq(), []);
    const r = new DERReader(csr);
    const info = r.raw(r.children(r.element(0))[0]!);
    const sealed = (alg: Buffer, hash = 'sha256') => der.seq(info, alg, der.bitString(sign(hash, info, key.key)));
    assert.equal(decodeCSR(sealed(der.seq(der.oid('1.2.840.10045.4.3.2')))).signatureValid, true);
    // RSA with SHA-256 named for an ECDSA key; parameters where ECDSA takes none; an algorithm not known here
    assert.equal(decodeCSR(sealed(der.seq(der.oid('1.2.840.113549.1.1.11'), der.nullValue()))).signatureValid, false);
    assert.equal(decodeCSR(sealed(der.seq(der.oid('1.2.840.10045.4.3.2'), der.nullValue()))).signatureValid, false);
    assert.equal(decodeCSR(sealed(der.seq(der.oid('1.2.840.10045.4.3.1')), 'sha224')).signatureValid, false);
    const bad = Buffer.from(csr);
    bad[bad.length - 1]! ^= 0xff;
    assert.equal(decodeCSR(bad).signatureValid, false);
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${bad.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(signCSR(ca, pem), (e) => isCSRError(e) && /does not verify/.test((e as Error).message));
    await assert.rejects(parseCSR('-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n'), (e) => isCSRError(e) && /cannot parse/.test((e as Error).message));
  });

  it('random bytes and random changes to a good request end in a CSR error or a result, never another exception', () => {
    const check = (b: Uint8Array) => {
      try {
        decodeCSR(b);
      } catch (e) {
        if (!isCSRError(e)) throw e;
      }
      return true;
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (changes) => {
      const b = Buffer.from(good);
      for (const [at, v] of changes) b[at % b.length] = v;
      return check(b);
    }), { numRuns: 2000 });
  });
});
