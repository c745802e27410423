/**
 * The app registration's certificate as Key Vault stores it: a secret holding PEM (certificate(s) and an
 * unencrypted private key) or base64 PKCS#12 without a password, which is what Key Vault returns as the
 * secret of a Key Vault *certificate* (content type application/x-pkcs12 or application/x-pem-file).
 * Parsed into what MSAL needs: the PKCS#8 private key, the SHA-256 thumbprint (hex) and the public
 * certificate chain (leaf first) that MSAL sends as `x5c`.
 */
import * as crypto from 'node:crypto';
import forge from 'node-forge';
import { RelayAuthError } from './errors';

export interface ParsedCertificate {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** PEM of the leaf certificate, then the rest of the chain. */
  chainPem: string;
  /** Hex SHA-256 of the leaf certificate's DER (MSAL's `thumbprintSha256`). */
  thumbprintSha256: string;
  subject: string;
  notAfter: Date;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY =
  /-----BEGIN (?:(RSA|EC|ENCRYPTED) )?PRIVATE KEY-----[\s\S]+?-----END (?:\1 )?PRIVATE KEY-----/;

/** Parses the secret value; `secretName` only names it in errors (the value is never in a message). */
export function parseCertificate(value: string, secretName: string): ParsedCertificate {
  const invalid = (why: string) =>
    new RelayAuthError(
      `Key Vault secret '${secretName}' does not hold a usable certificate (${why}). DEFENDER_CREDENTIAL=certificate needs the certificate ` +
        'with its private key: PEM (certificate and unencrypted private key) or base64 PKCS#12 without a password, as Key Vault stores a certificate.',
      'certificate_invalid',
    );
  let certs: string[];
  let keyPem: string;
  const text = value.trim();
  if (text.includes('-----BEGIN')) {
    certs = text.match(PEM_CERT) ?? [];
    const key = PEM_KEY.exec(text);
    if (!key) throw invalid('no private key in the PEM');
    if (key[1] === 'ENCRYPTED') throw invalid('the private key is encrypted');
    keyPem = key[0];
  } else {
    ({ certs, keyPem } = fromPkcs12(text, invalid));
  }
  if (certs.length === 0) throw invalid('no certificate');
  let key: crypto.KeyObject;
  let x509s: crypto.X509Certificate[];
  try {
    key = crypto.createPrivateKey(keyPem);
    x509s = certs.map((c) => new crypto.X509Certificate(c));
  } catch {
    throw invalid('the PEM cannot be read');
  }
  const leaf = x509s.find((c) => c.checkPrivateKey(key));
  if (!leaf) throw invalid('no certificate matches the private key');
  const chain = [leaf, ...x509s.filter((c) => c !== leaf)];
  return {
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    chainPem: chain.map((c) => c.toString().trim()).join('\n'),
    thumbprintSha256: crypto.createHash('sha256').update(leaf.raw).digest('hex'),
    subject: leaf.subject.replace(/\n/g, ', '),
    notAfter: new Date(leaf.validTo),
  };
}

function fromPkcs12(base64: string, invalid: (why: string) => Error): { certs: string[]; keyPem: string } {
  if (!/^[A-Za-z0-9+/=\s_-]+$/.test(base64)) throw invalid('neither PEM nor base64 PKCS#12');
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const der = Buffer.from(base64.replace(/\s+/g, ''), 'base64').toString('binary');
    const asn1 = forge.asn1.fromDer(der);
    try {
      // Key Vault (and `openssl pkcs12 -passout pass:`) encrypt with the empty password.
      p12 = forge.pkcs12.pkcs12FromAsn1(asn1, '');
    } catch {
      // No password at all: unencrypted bags, no MAC.
      p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false);
    }
  } catch {
    throw invalid('the PKCS#12 cannot be read without a password');
  }
  const bags = (oid: string | undefined): forge.pkcs12.Bag[] =>
    oid ? (p12.getBags({ bagType: oid })[oid] ?? []) : [];
  const { certBag, pkcs8ShroudedKeyBag, keyBag } = forge.pki.oids;
  const certs = bags(certBag)
    .map((b) => b.cert)
    .filter((c): c is forge.pki.Certificate => !!c)
    .map((c) => forge.pki.certificateToPem(c));
  const keyBags = [...bags(pkcs8ShroudedKeyBag), ...bags(keyBag)];
  const key = keyBags.find((b) => b.key)?.key;
  if (!key) throw invalid('no private key in the PKCS#12');
  return { certs, keyPem: forge.pki.privateKeyToPem(key) };
}
