/** Self-signed certificates for credential tests: PEM (certificate + key) and base64 PKCS#12. */
import * as crypto from 'node:crypto';
import forge from 'node-forge';

export interface TestCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** Certificate and key in one PEM, as `az keyvault secret set --file relay.pem` stores it. */
  pem: string;
  /** Base64 PKCS#12 with the given password (Key Vault: empty). */
  pkcs12(password?: string | null): string;
}

export function makeCertificate(
  options: { notBefore?: Date; notAfter?: Date; commonName?: string } = {},
): TestCertificate {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = crypto
    .randomBytes(8)
    .toString('hex')
    .replace(/^[89a-f]/, '1');
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86400_000);
  const name = [{ name: 'commonName', value: options.commonName ?? 'Defender Relay test' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(key, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  return {
    certificatePem,
    privateKeyPem,
    pem: `${certificatePem}${privateKeyPem}`,
    pkcs12: (password = '') => {
      const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert], password as string, { algorithm: '3des' });
      return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').toString('base64');
    },
  };
}
